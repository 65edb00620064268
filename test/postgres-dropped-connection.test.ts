import {
  defineEntity,
  Entity,
  type EntityRef,
  emit,
  jsonFromBytes,
  PersistError,
  type ProtocolOf,
  silentLogger,
} from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../packages/evtlog-postgres/test/pg-test-database.js";

// The committer's connection is terminated (pg_terminate_backend) while entities run commands: once
// in the middle of a batch statement (made to stall so that the timing is certain), and a few times at
// random under load. Commands fail with typed errors, the entities recover and continue, and nothing
// acknowledged is lost.

type Cmd = { readonly tag: string };
type Evt = { readonly tag: string };
const TYPE = "dropped";
const tagger = defineEntity<number, Cmd, Evt>({
  typeName: TYPE,
  initialState: () => 0,
  handleCmd: (_state, cmd) => emit({ tag: cmd.tag }),
  handleEvt: (state) => state + 1,
});

describe("a dropped committer connection during load", () => {
  const schema = uniqueSchemaName("dropped");
  let log: PostgresEvtLog;
  let admin: pg.Pool;

  beforeAll(async () => {
    admin = await testPool(2);
    log = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 4,
      logger: silentLogger,
    });
    // Stalls the statement that writes entity "stall", so the test can terminate it mid-transaction.
    await admin.query(`CREATE FUNCTION "${schema}".stall() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.id = 'stall' THEN PERFORM pg_sleep(5); END IF; RETURN NULL; END $$`);
    await admin.query(`CREATE TRIGGER stall AFTER INSERT ON "${schema}".events
      FOR EACH ROW EXECUTE FUNCTION "${schema}".stall()`);
  });
  afterAll(async () => {
    await log?.close();
    await admin?.end();
    await dropSchema(schema);
  });

  /** Backends currently running (or last having run) this log's batch statement. */
  async function terminateCommitter(onlyIfSleeping: boolean): Promise<number> {
    const res = await admin.query(
      `SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity
       WHERE position('WITH lk AS MATERIALIZED' in query) > 0 AND position($1 in query) > 0
         AND ($2::bool = false OR wait_event = 'PgSleep')`,
      [schema, onlyIfSleeping],
    );
    return res.rows.filter((r: { done: boolean }) => r.done).length;
  }

  it("fails the caught commands with PersistError, recovers, continues, and loses nothing acknowledged", async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `e${i}`);
    const refs = new Map<string, EntityRef<ProtocolOf<typeof tagger>>>();
    for (const id of [...ids, "stall"]) {
      refs.set(
        id,
        await Entity.spawn(id, tagger, {
          evtLog: log,
          logger: silentLogger,
          retryBackoff: { initialMs: 10 },
        }),
      );
    }
    const acked = new Map<string, Set<string>>();
    const errors: unknown[] = [];
    let running = true;
    const send = async (id: string, tag: string) => {
      try {
        await refs.get(id)!.handleCmd({ tag });
        const set = acked.get(id) ?? new Set<string>();
        set.add(tag);
        acked.set(id, set);
      } catch (err) {
        errors.push(err);
      }
    };
    const load = Promise.all(
      ids.map(async (id) => {
        for (let n = 0; running; n++) await send(id, `${id}/${n}`);
      }),
    );

    // 1. Certain timing: terminate the committer while it sits inside a batch statement.
    const stalled = send("stall", "stall/0");
    const deadline = Date.now() + 10_000;
    while ((await terminateCommitter(true)) === 0) {
      if (Date.now() > deadline) throw new Error("the stalled statement never showed up");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await stalled;
    // 2. A few more terminations at random points under load (idle or busy).
    for (let i = 0; i < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 150));
      await terminateCommitter(false);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    running = false;
    await load;

    // The stalled command and whatever shared its batch failed with PersistError; nothing else went wrong.
    expect(errors.length).toBeGreaterThan(0);
    for (const err of errors) expect(err).toBeInstanceOf(PersistError);
    expect(errors.some((err) => (err as PersistError).outcomeUnknown)).toBe(true);
    expect(log.stats.reconnects).toBeGreaterThan(0);

    // Every entity continues: one more command each succeeds.
    for (const id of ids)
      await expect(refs.get(id)!.handleCmd({ tag: `${id}/after` })).resolves.toMatchObject({
        kind: "accepted",
      });

    // Nothing acknowledged is lost, nothing is stored twice, seqNos stay contiguous, and each entity's state
    // (its seqNo after re-synchronising) matches the log.
    for (const id of ids) {
      const tags: string[] = [];
      const seqNos: number[] = [];
      for await (const r of log.evtsById(TYPE, id, { from: 1 })) {
        tags.push(jsonFromBytes<Evt>(r.bytes).tag);
        seqNos.push(r.seqNo);
      }
      expect(seqNos).toEqual(seqNos.map((_, i) => i + 1));
      expect(new Set(tags).size).toBe(tags.length);
      for (const tag of acked.get(id) ?? []) expect(tags, `${tag} acknowledged`).toContain(tag);
      expect(refs.get(id)!.seqNo).toBe(seqNos.length);
    }
    const stallTags: string[] = [];
    for await (const r of log.evtsById(TYPE, "stall", { from: 1 }))
      stallTags.push(jsonFromBytes<Evt>(r.bytes).tag);
    expect(stallTags).toEqual([]);
    await Promise.all([...refs.values()].map((ref) => ref.stop()));
  }, 60_000);
});
