import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { netChangeOf } from "../src/workload.js";
import { assertBuilt, lineStartingWith, runExample } from "./example-process.js";

const tmp = mkdtempSync(join(tmpdir(), "counter-e2e-pglite-"));
const dataDir = join(tmp, "pglite");
const summaryFile = join(tmp, "summary.json");
// PGlite initialises a fresh data directory in WebAssembly: tens of seconds on a busy 2-core machine.
const SLOW_MS = 150_000;
// No URL anywhere (the helper drops DATABASE_URL): the example starts its embedded database.
const env = {
  APP__EVT_LOG__POSTGRES__DATA_DIR: dataDir,
  APP__COUNTER__ENTITY_COUNT: "2",
  APP__COUNTER__EVT_COUNT: "6",
  APP__OUTPUT__SUMMARY_FILE: summaryFile,
};

beforeAll(() => {
  assertBuilt();
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("the counter example on the embedded PostgreSQL (PGlite)", () => {
  it(
    "runs with zero setup and keeps its data in the data directory for the next run",
    async () => {
      const first = await runExample({ env, timeoutMs: SLOW_MS });
      expect(first.code, first.stderr).toBe(0);
      expect(lineStartingWith(first.stdout, "counter:")).toContain(
        `on embedded PostgreSQL (PGlite) in ${dataDir}`,
      );
      expect(lineStartingWith(first.stdout, "write phase:")).toMatch(/^write phase: 12 commands in /);
      expect(lineStartingWith(first.stdout, "verified:")).toContain("all 2");
      expect(JSON.parse(readFileSync(summaryFile, "utf8"))).toMatchObject({
        log: "pglite",
        commands: 12,
        verified: true,
      });

      const second = await runExample({ env, timeoutMs: SLOW_MS });
      expect(second.code, second.stderr).toBe(0);
      expect(lineStartingWith(second.stdout, "start:")).toMatch(new RegExp(`sum to ${2n * netChangeOf(6)}$`));
      expect(lineStartingWith(second.stdout, "verified:")).toContain("all 2");

      const db = await PGlite.create(dataDir);
      try {
        const result = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM "counter"."events"');
        expect(result.rows[0]?.n).toBe(24);
      } finally {
        await db.close();
      }
    },
    2 * SLOW_MS,
  );
});
