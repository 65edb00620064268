import { randomBytes } from "node:crypto";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COUNTER_TYPE_NAME } from "../src/counter.js";
import { counterId } from "../src/workload.js";
import { assertBuilt, deleteCounterStream, runExample } from "./example-process.js";

// A run whose first fenced write is refused while its lease stands: on NATS, its counters carry an epoch
// marker above the run lease's epoch (written under a newer tenure, or before the server's clock stepped
// back, ADR 0136). The run exits 1 with one line saying so and what to do, not with the recovery's error,
// and prints nothing else on stderr.

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const stream = `COUNTER_REFUSED_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
const env = {
  APP__EVT_LOG__KIND: "nats",
  APP__EVT_LOG__NATS__URL: NATS_URL,
  APP__EVT_LOG__NATS__STREAM: stream,
  APP__COUNTER__ENTITY_COUNT: "3",
  APP__COUNTER__EVT_COUNT: "5",
  APP__OUTPUT__PROGRESS: "off",
};
const lines = (text: string): string[] => text.split("\n").filter((line) => line.trim() !== "");

beforeAll(() => {
  assertBuilt();
});

afterAll(async () => {
  await deleteCounterStream(NATS_URL, stream);
});

describe("a counter run refused at its start", { timeout: 60_000 }, () => {
  it("exits 1 with one line saying the store refused it and what to do", async () => {
    // The example's stream (its subjects under the stream's name), with counter-0 marked by a far newer epoch.
    const log = await NatsEvtLog.connect({
      servers: NATS_URL,
      stream: { name: stream, subjectPrefix: stream },
    });
    try {
      const newer = log.fenced({ owner: "a-newer-run", epoch: 9_000_000_000_000_000 });
      expect(await newer.lastSeqNo(COUNTER_TYPE_NAME, counterId(0))).toBe(0);

      const run = await runExample({ env });

      expect(run.code, run.stderr).toBe(1);
      expect(run.stdout).not.toContain("start: recovered");
      // Its one line and nothing else: not the registry's "recovery failed" warnings for the same refusal.
      const own = lines(run.stderr);
      expect(own, run.stderr).toHaveLength(1);
      expect(own[0]).toMatch(
        /^counter: the store refused this run at its start \(counter\/"counter-0": epoch \d+ is superseded/,
      );
      expect(own[0]).toContain("start over on a fresh one");
      expect(run.stderr).not.toMatch(/unexpected failure|\n\s+at /);
      for (let i = 0; i < 3; i++) expect(await log.lastSeqNo(COUNTER_TYPE_NAME, counterId(i))).toBe(0);
    } finally {
      await log.close();
    }
  });
});
