import { ErrorCode, isEventSourcedError, type PersistError } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, dropSchema, testPool, uniqueSchemaName } from "./pg-test-database.js";

const evt = { bytes: new TextEncoder().encode("e") };

/** The advisory lock that keeps batches of "held-" entities from committing (random: test runs may overlap). */
const GATE_KEY = Math.floor(Math.random() * 2 ** 40) + 1;

/** Waits until `settled` persists of `promises` have settled (polling), or fails after 10 s. */
async function untilSettled(promises: readonly Promise<unknown>[], what: string): Promise<void> {
  let settled = 0;
  for (const p of promises)
    void p.then(
      () => settled++,
      () => settled++,
    );
  const deadline = Date.now() + 10_000;
  while (settled < promises.length) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${settled} of ${promises.length}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("PostgresEvtLog committer lanes (ADR 0116)", () => {
  const schema = uniqueSchemaName("lanes");
  let log: PostgresEvtLog;
  let pool: pg.Pool;

  beforeAll(async () => {
    pool = await testPool(3);
    // The default pool (10 connections) gives the committer two lanes.
    log = await PostgresEvtLog.create({ connectionString: DATABASE_URL, schema });
    // Makes a transaction that wrote a "held-" entity wait at its commit (after its statement released the
    // log lock) while the test holds the gate.
    await pool.query(`CREATE FUNCTION "${schema}".hold() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id LIKE 'held-%' THEN PERFORM pg_advisory_xact_lock_shared(${GATE_KEY}); END IF; RETURN NULL;
      END $$`);
    await pool.query(`CREATE CONSTRAINT TRIGGER hold AFTER INSERT ON "${schema}".events
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "${schema}".hold()`);
  });

  afterAll(async () => {
    await log?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  /** Holds the gate (batches of "held-" entities cannot commit) while `body` runs. */
  async function withGateHeld<T>(body: () => Promise<T>): Promise<T> {
    const gate = await pool.connect();
    try {
      await gate.query("SELECT pg_advisory_lock($1)", [GATE_KEY]);
      return await body();
    } finally {
      await gate.query("SELECT pg_advisory_unlock_all()").catch(() => {});
      gate.release();
    }
  }

  /** The backend of this test's schema waiting at its commit on the gate, once there is one. */
  async function heldAtCommit(): Promise<number> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rows } = await pool.query(
        `SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'
           AND position($1 in query) > 0`,
        [schema],
      );
      if (rows.length > 1) throw new Error(`${rows.length} backends held at commit, expected one`);
      if (rows.length === 1) return (rows[0] as { pid: number }).pid;
      if (Date.now() > deadline) throw new Error("no batch reached its commit");
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  it("shares a burst between two connections: one batch commits while the other waits at its commit", async () => {
    const before = log.stats;
    // A live by-type reader on the same log. Either batch may take the log lock first; if the held one did,
    // the other commits first with higher positions, and the reader must hold those back until the held
    // batch has committed too (ADR 0108).
    const controller = new AbortController();
    const seen: number[] = [];
    const reading = (async () => {
      for await (const record of log.evtsByType("lane", { live: true, signal: controller.signal })) {
        seen.push(record.position);
        if (seen.length === 600) controller.abort();
      }
    })();
    try {
      const { freeResults, held, seenWhileHeld } = await withGateHeld(async () => {
        const held = Array.from({ length: 300 }, (_, i) => log.persist("lane", `held-${i}`, 0, [evt]));
        const free = Array.from({ length: 300 }, (_, i) => log.persist("lane", `free-${i}`, 0, [evt]));
        let heldSettled = 0;
        for (const p of held)
          void p.then(
            () => heldSettled++,
            () => heldSettled++,
          );
        // With one lane all 600 would be one batch, held at its commit, and none of these would settle.
        const freeResults = await Promise.all(free);
        await heldAtCommit();
        expect(heldSettled).toBe(0);
        // The reader was woken by the free batch's commit and reads again every few ms meanwhile.
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { freeResults, held, seenWhileHeld: [...seen] };
      });
      const heldResults = await Promise.all(held);
      await reading;
      expect(log.stats.batches - before.batches).toBe(2);
      expect(log.stats.maxBatch).toBe(300);
      // Each batch drew its positions under the log lock: the two ranges do not interleave.
      const heldPositions = heldResults.map((r) => r.position).sort((a, b) => a - b);
      const freePositions = freeResults.map((r) => r.position).sort((a, b) => a - b);
      const freeFirst = freePositions[299]! < heldPositions[0]!;
      expect(freeFirst || freePositions[0]! > heldPositions[299]!).toBe(true);
      // While the held batch had not committed, the reader delivered only what lies before it.
      expect(seenWhileHeld).toEqual(freeFirst ? freePositions : []);
      expect(seen).toEqual([...heldPositions, ...freePositions].sort((a, b) => a - b));
    } finally {
      controller.abort();
      await reading.catch(() => {});
    }
  });

  it("a lane whose connection dies fails only its own batch; the other lane's commits and the log goes on", async () => {
    const { held, free } = await withGateHeld(async () => {
      // Settled from the start: they reject as soon as the connection dies, before the test awaits them.
      const held = Promise.allSettled(
        Array.from({ length: 300 }, (_, i) => log.persist("dies", `held-${i}`, 0, [evt])),
      );
      const free = Array.from({ length: 300 }, (_, i) => log.persist("dies", `free-${i}`, 0, [evt]));
      await Promise.all(free);
      await pool.query("SELECT pg_terminate_backend($1)", [await heldAtCommit()]);
      return { held: await held, free: await Promise.all(free) };
    });
    expect(free.every((r) => r.seqNo === 1)).toBe(true);
    for (const result of held) {
      expect(result.status).toBe("rejected");
      const err = (result as PromiseRejectedResult).reason as PersistError;
      expect(isEventSourcedError(err, ErrorCode.Persist)).toBe(true);
      expect(err.outcomeUnknown).toBe(true);
    }
    // Terminated before its commit ended: nothing of the batch was written; the log lock went with the session.
    const { rows } = await pool.query(
      `SELECT count(*)::int AS n FROM "${schema}".events WHERE type = 'dies'`,
    );
    expect(rows[0].n).toBe(300);
    const again = await Promise.all(
      Array.from({ length: 600 }, (_, i) => log.persist("dies", `again-${i}`, 0, [evt])),
    );
    expect(again.every((r) => r.seqNo === 1)).toBe(true);
    expect(log.stats.reconnects).toBeGreaterThanOrEqual(1);
  });

  it("never writes an entity's next persist in a batch beside the one writing its previous persist", async () => {
    // 600 first persists and, in the same tick, each entity's second: two lanes are free and 1,200 wait, so
    // the second lane would take the second persists while the first lane's batch creating these entities is
    // uncommitted, and they would conflict. They wait for a later batch instead.
    const ids = Array.from({ length: 600 }, (_, i) => `twice-${i}`);
    const first = ids.map((id) => log.persist("lane", id, 0, [evt]));
    const second = ids.map((id) => log.persist("lane", id, 1, [evt, evt]));
    await untilSettled([...first, ...second], "both persists of every entity");
    expect((await Promise.all(first)).every((r) => r.seqNo === 1)).toBe(true);
    expect((await Promise.all(second)).every((r) => r.seqNo === 3)).toBe(true);
    for (const id of ["twice-0", "twice-599"]) expect(await log.lastSeqNo("lane", id)).toBe(3);
  });

  it("shares a burst of 200 persists between the lanes and writes a burst of 199 as one batch (ADR 0119)", async () => {
    const burst = async (size: number, prefix: string) => {
      const before = log.stats;
      await Promise.all(
        Array.from({ length: size }, (_, i) => log.persist("burst", `${prefix}-${i}`, 0, [evt])),
      );
      return { batches: log.stats.batches - before.batches, persists: log.stats.persists - before.persists };
    };
    expect(await burst(199, "b199")).toEqual({ batches: 1, persists: 199 });
    expect(await burst(200, "b200")).toEqual({ batches: 2, persists: 200 });
  });

  it("writes one batch at a time with an inline-projection hook (two hooks' transactions could deadlock)", async () => {
    const hooked = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      setup: false,
      inTransaction: async () => {},
    });
    try {
      const before = hooked.stats;
      await Promise.all(Array.from({ length: 600 }, (_, i) => hooked.persist("hooked", `h-${i}`, 0, [evt])));
      expect(hooked.stats.batches - before.batches).toBe(1);
    } finally {
      await hooked.close();
    }
  });
});
