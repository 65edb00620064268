import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, runExample } from "./example-process.js";

beforeAll(() => {
  assertBuilt();
});

const lines = (text: string): string[] => text.split("\n").filter((line) => line.trim() !== "");

describe("the counter example's failures", { timeout: 60_000 }, () => {
  it("a configuration error exits with status 2 naming the key and the env var", async () => {
    const run = await runExample({ env: { APP__COUNTER__EVT_COUNT: "lots" } });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      'counter: config key counter.evtCount must be an integer from 0 to 1000000000, got "lots" (from env var APP__COUNTER__EVT_COUNT)',
    ]);
    expect(run.stdout).toBe("");
  });

  it("an unknown key exits with status 2", async () => {
    const run = await runExample({ env: { APP__EVT_LOG__POSTGRES__HOST: "db" } });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "config key evtLog.postgres.host is not a known key (from env var APP__EVT_LOG__POSTGRES__HOST)",
    );
  });

  it("an unreachable PostgreSQL exits with status 1 and one line naming the URL without its password", async () => {
    const run = await runExample({
      env: {
        APP__EVT_LOG__POSTGRES__URL: "postgres://app:s3cret@127.0.0.1:1/app",
        APP__COUNTER__ENTITY_COUNT: "1",
      },
    });
    expect(run.code).toBe(1);
    const output = lines(run.stderr);
    expect(output).toHaveLength(1);
    expect(output[0]).toMatch(
      /^counter: cannot connect to PostgreSQL at postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/app /,
    );
    expect(output[0]).toContain("pg_ctlcluster");
    expect(run.stderr + run.stdout).not.toContain("s3cret");
  });

  it("a PostgreSQL that answers with an error is not told to be started: the URL's names are to check", async () => {
    const url = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test");
    url.pathname = "/counter_no_such_database";
    const run = await runExample({
      env: { APP__EVT_LOG__POSTGRES__URL: url.toString(), APP__COUNTER__ENTITY_COUNT: "1" },
    });
    expect(run.code).toBe(1);
    const output = lines(run.stderr);
    expect(output).toHaveLength(1);
    expect(output[0]).toContain('database "counter_no_such_database" does not exist');
    expect(output[0]).toContain("the server answered");
    expect(output[0]).not.toContain("pg_ctlcluster");
  });

  it("a URL that does not parse exits with status 2 as a configuration error", async () => {
    const run = await runExample({ env: { DATABASE_URL: "postgres://postgres@127.0.0.1:99999/test" } });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)[0]).toMatch(/^counter: config key evtLog\.postgres\.url must be/);
  });

  it("an unreachable NATS server exits with status 1 and one line saying how to start it", async () => {
    const run = await runExample({
      env: {
        APP__EVT_LOG__KIND: "nats",
        APP__EVT_LOG__NATS__URL: "nats://127.0.0.1:1",
        APP__EVT_LOG__NATS__PASSWORD: "s3cret",
      },
    });
    expect(run.code).toBe(1);
    const output = lines(run.stderr);
    expect(output).toHaveLength(1);
    expect(output[0]).toMatch(/^counter: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1 /);
    expect(output[0]).toContain("nats-server -js");
    expect(run.stderr + run.stdout).not.toContain("s3cret");
  });
});
