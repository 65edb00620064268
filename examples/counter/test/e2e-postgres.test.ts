import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { netChangeOf } from "../src/workload.js";
import { assertBuilt, lineStartingWith, runExample } from "./example-process.js";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schema = `counter_e2e_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
const tmp = mkdtempSync(join(tmpdir(), "counter-e2e-pg-"));
const summaryFile = join(tmp, "summary.json");
const env = {
  APP__EVT_LOG__KIND: "postgres",
  APP__EVT_LOG__POSTGRES__URL: DATABASE_URL,
  APP__EVT_LOG__POSTGRES__SCHEMA: schema,
  APP__COUNTER__ENTITY_COUNT: "3",
  APP__COUNTER__EVT_COUNT: "5",
  APP__COUNTER__SNAPSHOT_AFTER: "4",
  APP__OUTPUT__SUMMARY_FILE: summaryFile,
};
let admin: pg.Client;

async function count(table: string): Promise<number> {
  const result = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}"."${table}"`);
  return result.rows[0]!.n;
}

beforeAll(async () => {
  assertBuilt();
  admin = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
  } catch (cause) {
    throw new Error(
      `PostgreSQL is not reachable at ${DATABASE_URL} (${(cause as Error).message}); start it with ` +
        "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` or set DATABASE_URL",
    );
  }
});

afterAll(async () => {
  await admin?.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin?.end();
  rmSync(tmp, { recursive: true, force: true });
});

describe("the counter example on PostgreSQL", { timeout: 60_000 }, () => {
  it("writes every command, recovers every counter and says they are verified", async () => {
    const run = await runExample({ env });
    expect(run.code, run.stderr).toBe(0);
    expect(lineStartingWith(run.stdout, "counter:")).toContain(
      `3 counters x 5 commands on PostgreSQL at ${DATABASE_URL}`,
    );
    expect(lineStartingWith(run.stdout, "start:")).toMatch(/recovered 3 counters in .* sum to 0$/);
    expect(lineStartingWith(run.stdout, "write phase:")).toMatch(
      /^write phase: 15 commands in .* commands\/s, latency p50 .* p99 /,
    );
    expect(lineStartingWith(run.stdout, "recovery:")).toMatch(
      /^recovery: 3 counters in .*, 3 events replayed/,
    );
    expect(lineStartingWith(run.stdout, "verified:")).toContain(
      "all 3 recovered values equal the expected values",
    );
    expect(JSON.parse(readFileSync(summaryFile, "utf8"))).toMatchObject({
      log: "postgres",
      entityCount: 3,
      evtCount: 5,
      commands: 15,
      verified: true,
      evtsReplayed: 3,
      interrupted: false,
    });
    expect(await count("events")).toBe(15);
    expect(await count("snapshots")).toBe(3);
  });

  it("continues from the recovered values on a second run", async () => {
    const run = await runExample({ env });
    expect(run.code, run.stderr).toBe(0);
    expect(lineStartingWith(run.stdout, "start:")).toMatch(new RegExp(`sum to ${3n * netChangeOf(5)}$`));
    expect(lineStartingWith(run.stdout, "verified:")).toContain("all 3");
    expect(JSON.parse(readFileSync(summaryFile, "utf8"))).toMatchObject({ commands: 15, verified: true });
    expect(await count("events")).toBe(30);
  });

  it("stops cleanly on SIGINT: what was acknowledged is in the log and verified", async () => {
    const before = await count("events");
    let signalled = false;
    const run = await runExample({
      env: { ...env, APP__COUNTER__EVT_COUNT: "1000000" },
      onStderr: (text, child) => {
        if (!signalled && text.includes("progress:")) {
          signalled = true;
          child.kill("SIGINT");
        }
      },
    });
    expect(signalled, run.stderr).toBe(true);
    expect(run.code, run.stderr).toBe(130);
    const interrupted = lineStartingWith(run.stdout, "interrupted:");
    const acknowledged = Number(
      /^interrupted: ([\d,]+) of 3,000,000/.exec(interrupted)?.[1]?.replaceAll(",", ""),
    );
    expect(acknowledged).toBeGreaterThan(0);
    expect(lineStartingWith(run.stdout, "verified:")).toContain("all 3");
    expect(JSON.parse(readFileSync(summaryFile, "utf8"))).toMatchObject({
      interrupted: true,
      commands: acknowledged,
    });
    expect(await count("events")).toBe(before + acknowledged);
  });
});
