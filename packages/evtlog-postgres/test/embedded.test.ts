import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineEntity, Entity, emit, silentLogger } from "@eventsourced/core";
import { describeEvtLogContract } from "@eventsourced/core/testing/vitest";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "@eventsourced/evtlog-postgres/embedded";
import { PostgresSnapshotStore } from "@eventsourced/snapshots/postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// One PGlite server for the whole file: initialising a data directory runs initdb in WebAssembly, which
// takes a while on a busy machine (hence the generous hook timeouts).
const dataDir = mkdtempSync(join(tmpdir(), "eventsourced-pglite-"));
let embedded: EmbeddedPostgres;

beforeAll(async () => {
  embedded = await startEmbeddedPostgres({ dataDir });
}, 240_000);
afterAll(async () => {
  await embedded?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describeEvtLogContract("PostgresEvtLog on embedded PGlite", async () => {
  // The server takes one connection, and the log is told so.
  const log = await PostgresEvtLog.create({
    connectionString: embedded.connectionString,
    maxConnections: embedded.maxConnections,
  });
  return { subject: log, cleanup: () => log.close() };
});

const counter = defineEntity<number, { inc: number }, { by: number }>({
  typeName: "counter",
  initialState: () => 0,
  handleCmd: (_state, cmd) => emit({ by: cmd.inc }),
  handleEvt: (state, evt) => state + evt.by,
});

describe("embedded PGlite", () => {
  it("serves a log and a snapshot store sharing one connection, and keeps the data across a restart", async () => {
    for (const run of [1, 2]) {
      if (run === 2) {
        await embedded.stop();
        embedded = await startEmbeddedPostgres({ dataDir });
      }
      const pool = new pg.Pool({ connectionString: embedded.connectionString, max: embedded.maxConnections });
      const schema = "sharing";
      const log = await PostgresEvtLog.create({
        pool,
        maxConnections: embedded.maxConnections,
        schema,
        logger: silentLogger,
      });
      const snapshots = await PostgresSnapshotStore.create({ pool, schema });
      const options = { evtLog: log, snapshotStore: snapshots, snapshotAfter: 2, logger: silentLogger };
      const ref = await Entity.spawn("c-1", counter, options);
      for (let i = 0; i < 3; i++) await ref.handleCmd({ inc: 1 });
      await ref.stop();
      expect(ref.seqNo).toBe(run * 3);
      expect((await snapshots.load("counter", "c-1"))?.seqNo).toBeGreaterThanOrEqual(2);
      const live = new AbortController();
      const seen: number[] = [];
      for await (const r of log.evtsByType("counter", { live: true, signal: live.signal })) {
        seen.push(r.seqNo);
        if (seen.length === run * 3) live.abort();
      }
      expect(seen).toEqual(Array.from({ length: run * 3 }, (_, i) => i + 1));
      await log.close();
      await snapshots.close();
      await pool.end();
    }
  }, 240_000);
});
