import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  uniqueSchemaName,
} from "../../../packages/evtlog-postgres/test/pg-test-database.js";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import { assertBuilt, runExample } from "./example-process.js";

// PostgreSQL goes away in the middle of the write phase (a proxy in front of it is closed): the run must
// still print its report and write its summary (how many commands were acknowledged, why it failed) and
// exit 1. Before, a report hook that read the log failed first and the run printed only that error.

const schema = uniqueSchemaName("counter_cut");
const tmp = mkdtempSync(join(tmpdir(), "counter-cut-"));
const summaryFile = join(tmp, "summary.json");
let proxy: FaultProxy;

beforeAll(async () => {
  assertBuilt();
  proxy = await FaultProxy.inFrontOf(DATABASE_URL, 5432);
});

afterAll(async () => {
  proxy.close();
  await dropSchema(schema);
  rmSync(tmp, { recursive: true, force: true });
});

describe("the counter when PostgreSQL goes away mid-run", { timeout: 120_000 }, () => {
  it("prints its report, writes its summary with the acknowledged count and the error, and exits 1", async () => {
    let cut = false;
    const run = await runExample({
      env: {
        APP__EVT_LOG__KIND: "postgres",
        APP__EVT_LOG__POSTGRES__URL: proxy.url,
        APP__EVT_LOG__POSTGRES__SCHEMA: schema,
        APP__COUNTER__ENTITY_COUNT: "20",
        APP__COUNTER__EVT_COUNT: "100000",
        APP__OUTPUT__SUMMARY_FILE: summaryFile,
      },
      onStderr: (text) => {
        // The first progress line: the write phase is under way. Cut every connection, refuse new ones.
        if (!cut && text.includes("progress:")) {
          cut = true;
          proxy.close();
        }
      },
    });
    expect(cut).toBe(true);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/failed: the write phase ended after [\d,]+ of 2,000,000 commands/);
    expect(run.stdout).toMatch(/^write phase: /m);
    const summary = JSON.parse(readFileSync(summaryFile, "utf8")) as {
      commands: number;
      error: string | null;
    };
    expect(summary.commands).toBeGreaterThan(0);
    expect(summary.error).not.toBeNull();
    expect(run.stderr).not.toContain("unexpected failure");
  });
});
