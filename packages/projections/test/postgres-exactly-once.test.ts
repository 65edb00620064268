import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { blueGreen, Projection, type ProjectionHandler } from "@eventsourced/projections";
import { PostgresProjectionStore } from "@eventsourced/projections/postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deposited, deposit, depositBinarizer, waitUntil } from "./support/fixtures.js";
import { dropSchema, namedPool, terminateBackends, uniqueSchemaName } from "./support/pg-env.js";
import { exactlyOnceVerdict, ReadModel } from "./support/read-model.js";

// Exactly-once on PostgreSQL: the handler's writes and the checkpoint's compare-and-set in one transaction.

describe("exactly-once projections on PostgreSQL", () => {
  const schema = uniqueSchemaName("proj");
  const appName = `proj-test-${schema}`;
  let pool: pg.Pool;
  let admin: pg.Pool;
  let log: PostgresEvtLog;
  let store: PostgresProjectionStore;
  const running: Projection<Deposited>[] = [];

  beforeAll(async () => {
    admin = await namedPool(`${appName}-admin`, 2);
    pool = await namedPool(appName, 8);
    log = await PostgresEvtLog.create({ pool, schema, logger: silentLogger, pollIntervalMs: 50 });
    store = await PostgresProjectionStore.create({ pool, schema });
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await log?.close();
    await pool?.end();
    await admin?.end();
    await dropSchema(schema);
  });

  function start(name: string, handler: ProjectionHandler<Deposited>, type: string, maxEvents = 100) {
    const projection = Projection.create<Deposited>({
      name,
      evtLog: log,
      type,
      binarizer: depositBinarizer,
      handler,
      batch: { maxEvents, maxWaitMs: 10 },
      onError: { retries: 1, backoff: { initialMs: 1, maxMs: 5 } },
      retryBackoff: { initialMs: 20, maxMs: 200 },
      logger: silentLogger,
    });
    running.push(projection);
    projection.start();
    return projection;
  }

  /** `perEntity` rounds of one deposit for each of `entities` entities; `poison(i)` marks the i-th event. */
  async function writeMany(
    type: string,
    entities: number,
    perEntity: number,
    poison?: (i: number) => boolean,
  ) {
    const last = await Promise.all(Array.from({ length: entities }, (_, e) => log.lastSeqNo(type, `e${e}`)));
    let i = 0;
    for (let round = 0; round < perEntity; round++) {
      await Promise.all(
        last.map((seqNo, e) =>
          log.persist(type, `e${e}`, seqNo + round, [deposit(e + round, poison?.(i++) ?? false)]),
        ),
      );
    }
  }

  it("applies every event exactly once and keeps the checkpoint in the read model's transaction", async () => {
    const type = "eo";
    const model = new ReadModel(pool, schema, "eo_");
    await model.create();
    await writeMany(type, 20, 10);
    const p = start("eo", model.handler(store), type);
    await p.whenCaughtUp();
    await writeMany(type, 5, 3);
    await p.whenCaughtUp();
    expect(await exactlyOnceVerdict(model, log, type)).toEqual({
      events: 215,
      missing: 0,
      duplicated: 0,
      foreign: 0,
      gaps: 0,
      wrongTotals: 0,
    });
    expect((await store.load("eo"))?.position).toBe(p.status.position);
  });

  it("a handler failure after its writes rolls them back with the checkpoint", async () => {
    const type = "rollback";
    const model = new ReadModel(pool, schema, "rb_");
    await model.create();
    await writeMany(type, 10, 5);
    let failures = 3;
    const p = start(
      "rollback",
      model.handler(store, () => {
        if (failures-- > 0) throw new Error("injected after the writes");
      }),
      type,
      7,
    );
    await p.whenCaughtUp();
    expect(p.stats.handlerFailures).toBe(3);
    expect(await exactlyOnceVerdict(model, log, type)).toMatchObject({
      missing: 0,
      duplicated: 0,
      wrongTotals: 0,
    });
  });

  it("two instances without a lease: one is fenced at its compare-and-set, nothing is applied twice", async () => {
    const type = "twins";
    const model = new ReadModel(pool, schema, "tw_");
    await model.create();
    await writeMany(type, 30, 10);
    const a = start("twins", model.handler(store), type, 10);
    const b = start("twins", model.handler(store), type, 10);
    await waitUntil(
      () => a.status.state === "failed" || b.status.state === "failed",
      "one twin to be fenced",
    );
    const [fenced, survivor] = a.status.state === "failed" ? [a, b] : [b, a];
    expect(fenced.status.error).toMatchObject({ code: "PROJECTION_FENCED" });
    await survivor.whenCaughtUp();
    expect(await exactlyOnceVerdict(model, log, type)).toMatchObject({
      missing: 0,
      duplicated: 0,
      wrongTotals: 0,
    });
  });

  it("a poison event in a batch of 500: one dead letter, 499 applied, a bounded number of extra transactions", async () => {
    const type = "poison";
    const model = new ReadModel(pool, schema, "po_");
    await model.create();
    await writeMany(type, 50, 10, (i) => i === 317);
    const poison = (
      await model.pool.query(
        `SELECT position FROM "${schema}".events WHERE type = $1 ORDER BY position OFFSET 317 LIMIT 1`,
        [type],
      )
    ).rows[0].position as string;
    const projection = Projection.create<Deposited>({
      name: "poison",
      evtLog: log,
      type,
      binarizer: depositBinarizer,
      handler: model.handler(store, (evts) => {
        if (evts.some((e) => e.evt.poison)) throw new Error("cannot apply a poisoned deposit");
      }),
      // One batch of all 500 events: the log is written before the projection starts.
      batch: { maxEvents: 500, maxWaitMs: 5_000 },
      onError: { retries: 1, backoff: { initialMs: 1, maxMs: 2 } },
      logger: silentLogger,
    });
    running.push(projection);
    projection.start();
    await projection.whenCaughtUp();
    const letters = await projection.deadLetters();
    expect(letters.map((l) => [l.position, l.seqNo])).toEqual([[Number(poison), 7]]);
    expect(letters[0]!.error).toMatch(/poisoned deposit/);
    const audit = await model.audit();
    expect(audit.size).toBe(499);
    expect([...audit.values()].every((a) => a.count === 1)).toBe(true);
    // 2 failed attempts of the whole batch, log2(500) bisection steps, and the final commit of the rest
    // together with the dead letter.
    const { transactions, batches, bisections } = projection.stats;
    expect({ batches, bisections }).toEqual({ batches: 1, bisections: 1 });
    expect(transactions).toBeLessThanOrEqual(2 + Math.ceil(Math.log2(500)) + 2);
    console.info(`poison in a batch of 500: ${transactions} transactions (${transactions - 1} extra)`);
  });

  it("re-drives a dead letter in one transaction with its removal", async () => {
    const type = "redrive";
    const model = new ReadModel(pool, schema, "rd_");
    await model.create();
    await writeMany(type, 3, 3, (i) => i === 4);
    let refuse = true;
    const p = start(
      "redrive",
      model.handler(store, (evts) => {
        if (refuse && evts.some((e) => e.evt.poison)) throw new Error("not yet");
      }),
      type,
    );
    await p.whenCaughtUp();
    const [letter] = await p.deadLetters();
    refuse = false;
    await p.redrive(letter!.position);
    expect(await p.deadLetters()).toEqual([]);
    expect(await exactlyOnceVerdict(model, log, type)).toMatchObject({
      missing: 0,
      duplicated: 0,
      wrongTotals: 0,
    });
  });

  it("rebuild in place and blue-green each produce the same read model as a fresh build", async () => {
    const type = "rebuild";
    const live = new ReadModel(pool, schema, "rb1_");
    const fresh = new ReadModel(pool, schema, "rb2_");
    const green = new ReadModel(pool, schema, "rb3_");
    await Promise.all([live.create(), fresh.create(), green.create()]);
    await writeMany(type, 10, 10);
    const p = start("rebuild-v1", live.handler(store), type);
    await p.whenCaughtUp();
    await writeMany(type, 10, 1);
    await p.rebuild();
    await writeMany(type, 10, 1);
    await p.whenCaughtUp();
    const freshBuild = start("rebuild-fresh", fresh.handler(store), type);
    await freshBuild.whenCaughtUp();
    expect(await live.totalsById()).toEqual(await fresh.totalsById());
    expect(await exactlyOnceVerdict(live, log, type)).toMatchObject({
      missing: 0,
      duplicated: 0,
      wrongTotals: 0,
    });

    const next = Projection.create<Deposited>({
      name: "rebuild-v2",
      evtLog: log,
      type,
      binarizer: depositBinarizer,
      handler: green.handler(store),
      logger: silentLogger,
    });
    running.push(next);
    let swappedAt = -1;
    const writing = writeMany(type, 10, 1);
    await blueGreen({
      current: p,
      next,
      swap: async () => {
        swappedAt = next.status.position;
      },
    });
    await writing;
    await next.whenCaughtUp();
    await freshBuild.whenCaughtUp();
    expect(swappedAt).toBeGreaterThan(0);
    expect(p.status.state).toBe("stopped");
    expect(await green.totalsById()).toEqual(await fresh.totalsById());
  });

  it("resumes by itself with nothing lost or doubled when its connections are terminated mid-projection", async () => {
    const type = "terminated";
    const model = new ReadModel(pool, schema, "te_");
    await model.create();
    const p = start("terminated", model.handler(store), type, 20);
    let writing = true;
    const writer = (async () => {
      for (let round = 0; writing; round++) await writeRound(type, round);
    })();
    let terminated = 0;
    for (let i = 0; i < 6; i++) {
      await waitUntil(() => p.status.position > 0, "the projection to apply something");
      await new Promise((resolve) => setTimeout(resolve, 80));
      terminated += await terminateBackends(admin, appName);
    }
    writing = false;
    await writer;
    await waitUntil(async () => {
      // The log's pool may still hand out an idle connection the test terminated: that read fails
      // (ReadError) and the next one gets a fresh connection.
      const head = await log.headOfType(type).catch(() => undefined);
      return head !== undefined && p.status.position === head.position;
    }, "the projection to catch up after the terminations");
    expect(terminated).toBeGreaterThan(0);
    expect(await exactlyOnceVerdict(model, log, type)).toMatchObject({
      missing: 0,
      duplicated: 0,
      gaps: 0,
      wrongTotals: 0,
    });
  });

  async function writeRound(type: string, round: number): Promise<void> {
    for (;;) {
      try {
        const last = await Promise.all(Array.from({ length: 10 }, (_, e) => log.lastSeqNo(type, `e${e}`)));
        await Promise.all(last.map((seqNo, e) => log.persist(type, `e${e}`, seqNo, [deposit(round + e)])));
        return;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
});
