import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineEntity, Entity, emit, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { PostgresSnapshotStore } from "@eventsourced/snapshots/postgres";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { startEmbeddedPostgres } from "../src/embedded/index.js";

const counter = defineEntity<number, { inc: number }, { by: number }>({
  typeName: "counter",
  initialState: () => 0,
  handleCmd: (_state, cmd) => emit({ by: cmd.inc }),
  handleEvt: (state, evt) => state + evt.by,
});

describe("embedded PGlite", () => {
  it("serves a log and a snapshot store sharing one connection, and keeps the data across restarts", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "eventsourced-pglite-"));
    try {
      for (const run of [1, 2]) {
        const embedded = await startEmbeddedPostgres({ dataDir });
        const pool = new pg.Pool({
          connectionString: embedded.connectionString,
          max: embedded.maxConnections,
        });
        const log = await PostgresEvtLog.create({ pool, logger: silentLogger });
        const snapshots = await PostgresSnapshotStore.create({ pool });
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
        await embedded.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
