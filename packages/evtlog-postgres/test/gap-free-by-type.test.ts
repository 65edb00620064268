import type { TypedEvtRecord } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, dropSchema, testPool, uniqueSchemaName } from "./pg-test-database.js";

const encoder = new TextEncoder();
const evt = (text: string) => ({ bytes: encoder.encode(text) });

async function waitFor(condition: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A live by-type reader of `type` that collects what it is given and stops after `total` events (or when
 * `controller` aborts).
 */
function readLive(reader: PostgresEvtLog, type: string, total: number) {
  const controller = new AbortController();
  const seen: TypedEvtRecord[] = [];
  const reading = (async () => {
    for await (const record of reader.evtsByType(type, { live: true, signal: controller.signal })) {
      seen.push(record);
      if (seen.length === total) controller.abort();
    }
  })();
  return { controller, seen, reading };
}

/** The advisory lock that keeps the "held" transaction from committing (random: test runs may overlap). */
const GATE_KEY = Math.floor(Math.random() * 2 ** 40) + 1;

describe("PostgresEvtLog by-type reads are gap-free", () => {
  const schema = uniqueSchemaName("gap");
  let slowWriter: PostgresEvtLog;
  let fastWriter: PostgresEvtLog;
  let reader: PostgresEvtLog;
  /** Reads pages of two: pages full of unsettled rows, which must not be read past (read-ahead included). */
  let smallPagesReader: PostgresEvtLog;

  beforeAll(async () => {
    await (await testPool(1)).end();
    const options = { connectionString: DATABASE_URL, schema, maxConnections: 2, pollIntervalMs: 20 };
    // Three logs on one table behave like three processes: separate committers and connections.
    slowWriter = await PostgresEvtLog.create(options);
    fastWriter = await PostgresEvtLog.create(options);
    reader = await PostgresEvtLog.create(options);
    smallPagesReader = await PostgresEvtLog.create({ ...options, readPageSize: 2 });
    const pool = await testPool(1);
    // Makes the transaction that writes entity "slow" stay open after its INSERT took a position.
    await pool.query(`CREATE FUNCTION "${schema}".stall() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id = 'slow' THEN PERFORM pg_sleep(0.6); END IF; RETURN NULL; END $$`);
    await pool.query(`CREATE TRIGGER stall AFTER INSERT ON "${schema}".events
      FOR EACH ROW EXECUTE FUNCTION "${schema}".stall()`);
    // Makes the transaction that writes entity "held" wait at its commit, after its statement released the
    // log lock, until the test lets it go (the test holds the gate's advisory lock meanwhile).
    await pool.query(`CREATE FUNCTION "${schema}".hold() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id = 'held' THEN PERFORM pg_advisory_xact_lock_shared(${GATE_KEY}); END IF; RETURN NULL; END $$`);
    await pool.query(`CREATE CONSTRAINT TRIGGER hold AFTER INSERT ON "${schema}".events
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "${schema}".hold()`);
    await pool.end();
  });
  afterAll(async () => {
    await Promise.all([slowWriter?.close(), fastWriter?.close(), reader?.close(), smallPagesReader?.close()]);
    await dropSchema(schema);
  });

  it("delivers every event exactly once, in position order, while an earlier transaction commits after later ones", async () => {
    const type = "gap";
    await fastWriter.persist(type, "warmup", 0, [evt("w")]);
    const total = 1 + 1 + 20;
    const { controller, seen, reading } = readLive(reader, type, total);
    try {
      await waitFor(() => seen.length === 1, "the stored event");

      const slow = slowWriter.persist(type, "slow", 0, [evt("slow")]);
      const probe = await testPool(1);
      try {
        // Wait until the slow statement is inside its transaction (stalled in the trigger, row inserted).
        await waitFor(
          async () =>
            (
              await probe.query(
                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event = 'PgSleep' AND position($1 in query) > 0",
                [schema],
              )
            ).rows[0].n > 0,
          "the slow transaction",
        );
      } finally {
        await probe.end();
      }
      // Later writers, on other connections, start while the earlier one is still uncommitted.
      const fast = Array.from({ length: 20 }, (_, i) =>
        fastWriter.persist(type, `fast-${i}`, 0, [evt(`f${i}`)]),
      );
      await Promise.all([slow, ...fast]);
      const timer = setTimeout(() => controller.abort(), 10_000);
      await reading;
      clearTimeout(timer);

      expect(seen).toHaveLength(total);
      expect(new Set(seen.map((r) => r.id)).size).toBe(total);
      const positions = seen.map((r) => r.position);
      expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      const slowPosition = seen.find((r) => r.id === "slow")!.position;
      // Commit order = position order: the later writers were handed positions after the slow one.
      for (const r of seen.filter((r) => r.id.startsWith("fast-")))
        expect(r.position).toBeGreaterThan(slowPosition);

      // A reader resuming from any delivered position sees exactly the rest.
      const all: TypedEvtRecord[] = [];
      for await (const r of reader.evtsByType(type)) all.push(r);
      expect(all.map((r) => r.position)).toEqual(positions);
    } finally {
      controller.abort();
      await reading.catch(() => {});
    }
  });
  it.each([
    ["pages of 1,000", "held", () => reader],
    ["pages of 2", "held-small-pages", () => smallPagesReader],
  ])(
    "holds back later commits while an earlier writer, past the log lock, has not committed yet (%s)",
    async (_pages, type, readerOf) => {
      const reader = readerOf();
      await fastWriter.persist(type, "warmup", 0, [evt("w")]);
      const total = 1 + 1 + 20;
      const { controller, seen, reading } = readLive(reader, type, total);
      const gate = await testPool(2);
      const gateClient = await gate.connect();
      try {
        await waitFor(() => seen.length === 1, "the stored event");
        await gateClient.query("SELECT pg_advisory_lock($1)", [GATE_KEY]);
        let heldSettled = false;
        const held = slowWriter.persist(type, "held", 0, [evt("held")]).finally(() => {
          heldSettled = true;
        });
        // Wait until the held transaction has written its row and waits at its commit, on the gate.
        await waitFor(
          async () =>
            (
              await gate.query(
                "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory' AND position($1 in query) > 0",
                [schema],
              )
            ).rows[0].n > 0,
          "the held transaction",
        );
        // Later writers take the log lock and commit while the held one has not: it released the lock before
        // its commit, so nothing waits for its commit.
        const fast = await Promise.all(
          Array.from({ length: 20 }, (_, i) => fastWriter.persist(type, `fast-${i}`, 0, [evt(`f${i}`)])),
        );
        expect(heldSettled).toBe(false);
        // Their positions are higher; a reader must not deliver them before the held event, and a read that is
        // not live waits for it too.
        const heldPosition = Math.min(...fast.map((p) => p.position)) - 1;
        const oneShot = (async () => {
          const all: TypedEvtRecord[] = [];
          for await (const r of reader.evtsByType(type, { after: heldPosition - 1 })) all.push(r);
          return all;
        })();
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(seen.map((r) => r.id)).toEqual(["warmup"]);
        await gateClient.query("SELECT pg_advisory_unlock($1)", [GATE_KEY]);
        const heldPersisted = await held;
        expect(heldPersisted.position).toBeLessThan(Math.min(...fast.map((p) => p.position)));
        expect((await oneShot).map((r) => r.id)).toEqual(
          ["held", ...fast.map((_, i) => `fast-${i}`)].sort((a, b) => positionOf(a) - positionOf(b)),
        );
        const timer = setTimeout(() => controller.abort(), 10_000);
        await reading;
        clearTimeout(timer);

        expect(seen).toHaveLength(total);
        const positions = seen.map((r) => r.position);
        expect([...positions].sort((a, b) => a - b)).toEqual(positions);
        expect(seen[1]!.id).toBe("held");

        function positionOf(id: string): number {
          return id === "held" ? heldPersisted.position : fast[Number(id.slice("fast-".length))]!.position;
        }
      } finally {
        controller.abort();
        await gateClient.query("SELECT pg_advisory_unlock_all()").catch(() => {});
        gateClient.release();
        await gate.end();
        await reading.catch(() => {});
      }
    },
  );
});
