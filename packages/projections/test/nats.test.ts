import { silentLogger } from "@eventsourced/core";
import { NatsEvtLog, Subjects } from "@eventsourced/evtlog-nats";
import { atLeastOnce, Projection } from "@eventsourced/projections";
import { NatsKvProjectionStore } from "@eventsourced/projections/nats";
import { PostgresProjectionStore } from "@eventsourced/projections/postgres";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deposited, deposit, depositBinarizer, waitUntil } from "./support/fixtures.js";
import {
  connectTestNats,
  deleteStream,
  NATS_URL,
  NatsServerProcess,
  uniqueName,
} from "./support/nats-env.js";
import { dropSchema, namedPool, uniqueSchemaName } from "./support/pg-env.js";
import { exactlyOnceVerdict, ReadModel } from "./support/read-model.js";

// Projections over a NATS JetStream log: exactly-once into PostgreSQL, at-least-once with NATS KV checkpoints.

const schema = uniqueSchemaName("projnats");
let pool: pg.Pool;

beforeAll(async () => {
  pool = await namedPool(`projnats-${schema}`, 6);
});
afterAll(async () => {
  await pool?.end();
  await dropSchema(schema);
});

/** One deposit for each entity, retried while the server is away (at most about a minute). */
async function writeRound(log: NatsEvtLog, type: string, entities: number, round: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const last = await Promise.all(
        Array.from({ length: entities }, (_, e) => log.lastSeqNo(type, `e${e}`)),
      );
      await Promise.all(last.map((seqNo, e) => log.persist(type, `e${e}`, seqNo, [deposit(round + e)])));
      return;
    } catch (err) {
      if (attempt > 1_000) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

describe("projections over the shared NATS server", () => {
  let nc: NatsConnection;
  const stream = uniqueName("projnats");
  const bucket = uniqueName("projkv");
  let log: NatsEvtLog;

  beforeAll(async () => {
    nc = await connectTestNats();
    log = await NatsEvtLog.connect({
      servers: NATS_URL,
      stream: { name: stream, subjectPrefix: stream },
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await log?.close();
    await deleteStream(nc, stream);
    await (await new Kvm(nc).open(bucket)).destroy().catch(() => {});
    await nc?.close();
  });

  it("is exactly-once into PostgreSQL, and dead-letters a foreign message on an entity subject", async () => {
    const type = "eonats";
    const model = new ReadModel(pool, schema, "n1_");
    await model.create();
    const store = await PostgresProjectionStore.create({ pool, schema });
    for (let round = 0; round < 5; round++) await writeRound(log, type, 10, round);
    await jetstream(nc).publish(new Subjects(stream).entity(type, "intruder"), "garbage");
    for (let round = 5; round < 8; round++) await writeRound(log, type, 10, round);
    const p = Projection.create<Deposited>({
      name: "eonats",
      evtLog: log,
      type,
      binarizer: depositBinarizer,
      handler: model.handler(store),
      logger: silentLogger,
    });
    p.start();
    try {
      await p.whenCaughtUp();
      const letters = await p.deadLetters();
      expect(letters.map((l) => [l.id, l.attempts, new TextDecoder().decode(l.bytes)])).toEqual([
        ["intruder", 1, "garbage"],
      ]);
      expect(letters[0]!.error).toMatch(/DecodeError/);
      const audit = await model.audit();
      expect(audit.size).toBe(80);
      expect([...audit.values()].every((a) => a.count === 1)).toBe(true);
      expect(await p.lag()).toMatchObject({ events: 0, ms: 0 });
    } finally {
      await p.stop();
    }
  });

  it("is at-least-once with a NATS KV checkpoint: a graceful stop saves it, the next instance goes on from there", async () => {
    const type = "alonats";
    const store = await NatsKvProjectionStore.create({ connection: nc, bucket, storage: "memory" });
    const seen = new Map<number, number>();
    const make = () =>
      Projection.create<Deposited>({
        name: "alonats",
        evtLog: log,
        type,
        binarizer: depositBinarizer,
        handler: atLeastOnce<Deposited>({
          store,
          saveAfterEvents: 25,
          saveAfterMs: 60_000,
          handle: (evts) => {
            for (const e of evts) seen.set(e.position, (seen.get(e.position) ?? 0) + 1);
          },
        }),
        batch: { maxEvents: 10, maxWaitMs: 5 },
        logger: silentLogger,
      });
    for (let round = 0; round < 7; round++) await writeRound(log, type, 10, round);
    const first = make();
    first.start();
    await first.whenCaughtUp();
    // Batches of 10, a save once 25 are unsaved: saved after 30 and 60 events, not after 70.
    expect(first.status.storedPosition).toBeLessThan(first.status.position);
    await first.stop();
    expect((await store.load("alonats"))?.position).toBe(first.status.position);
    for (let round = 7; round < 9; round++) await writeRound(log, type, 10, round);
    const second = make();
    second.start();
    try {
      await second.whenCaughtUp();
      expect(seen.size).toBe(90);
      expect([...seen.values()].every((count) => count === 1)).toBe(true);
    } finally {
      await second.stop();
    }
  });
});

describe("a projection across a restart of its NATS server", () => {
  let server: NatsServerProcess;
  let log: NatsEvtLog;
  let nc: NatsConnection;

  beforeAll(async () => {
    server = await NatsServerProcess.start(["-js"]);
    log = await NatsEvtLog.connect({
      servers: server.url,
      stream: { name: "restart", subjectPrefix: "restart" },
      publishTimeoutMs: 1_000,
      logger: silentLogger,
    });
    nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  });
  afterAll(async () => {
    await log?.close().catch(() => {});
    await nc?.close().catch(() => {});
    await server?.stop();
  });

  it("resumes by itself: exactly-once into PostgreSQL nothing lost or doubled, at-least-once in KV nothing lost", async () => {
    const type = "restarted";
    const model = new ReadModel(pool, schema, "n2_");
    await model.create();
    const pgStore = await PostgresProjectionStore.create({ pool, schema });
    const kvStore = await NatsKvProjectionStore.create({
      connection: nc,
      bucket: "projections",
      storage: "file",
    });
    const seen = new Map<number, number>();
    const exactly = Projection.create<Deposited>({
      name: "restart-eo",
      evtLog: log,
      type,
      binarizer: depositBinarizer,
      handler: model.handler(pgStore),
      retryBackoff: { initialMs: 50, maxMs: 500 },
      logger: silentLogger,
    });
    const atLeast = Projection.create<Deposited>({
      name: "restart-alo",
      evtLog: log,
      type,
      binarizer: depositBinarizer,
      handler: atLeastOnce<Deposited>({
        store: kvStore,
        handle: (evts) => {
          for (const e of evts) seen.set(e.position, (seen.get(e.position) ?? 0) + 1);
        },
      }),
      retryBackoff: { initialMs: 50, maxMs: 500 },
      logger: silentLogger,
    });
    exactly.start();
    atLeast.start();
    let writing = true;
    const writer = (async () => {
      for (let round = 0; writing; round++) await writeRound(log, type, 8, round);
    })();
    try {
      for (const downMs of [300, 2_000]) {
        const before = exactly.status.position;
        await waitUntil(() => exactly.status.position > before, "progress before the crash", 30_000);
        await server.kill();
        await new Promise((resolve) => setTimeout(resolve, downMs));
        await server.restart();
        const after = exactly.status.position;
        await waitUntil(() => exactly.status.position > after, "progress after the restart", 30_000);
      }
    } finally {
      writing = false;
      await writer;
    }
    await exactly.whenCaughtUp();
    await atLeast.whenCaughtUp();
    await Promise.all([exactly.stop(), atLeast.stop()]);
    const verdict = await exactlyOnceVerdict(model, log, type);
    expect(verdict).toMatchObject({ missing: 0, duplicated: 0, foreign: 0, gaps: 0, wrongTotals: 0 });
    expect(seen.size).toBe(verdict.events);
  }, 120_000);
});
