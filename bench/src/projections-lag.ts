/**
 * Lag of a projection under a steady write rate: persist acknowledged -> read model committed, with the writer
 * in a child process (so writer and projection do not share a thread), beside the raw tail measured the same
 * way: a raw INSERT + NOTIFY writer with a LISTEN + query reader (PostgreSQL), raw publishes with an ordered
 * consumer (NATS). Times are wall clock (`performance.timeOrigin + performance.now()`) on one host.
 *
 * Used by projections.bench.ts; run as a child (`node projections-lag.js writer <kind> ...`) it is the writer.
 */
import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { jsonBinarizer, silentLogger } from "@eventsourced/core";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";

/** Which pair is measured. */
export type LagKind = "ours-pg" | "raw-pg" | "ours-nats" | "raw-nats";

/** Where a writer writes: a schema (PostgreSQL) or a stream (NATS). */
export interface LagTarget {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  /** Schema (PostgreSQL) or stream and subject prefix (NATS). */
  readonly name: string;
}

/** What one lag run measured. */
export interface LagResult {
  readonly achievedPerSecond: number;
  readonly matched: number;
  /** Persist acknowledged (in the writer) -> delivered or committed. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Persist started (in the writer) -> delivered or committed: includes the write itself. */
  readonly startP50Ms: number;
  readonly startP99Ms: number;
}

const now = () => performance.timeOrigin + performance.now();
const binarizer = jsonBinarizer<{ amount: number }, unknown>();
const EVENT = { bytes: binarizer.evtToBytes({ amount: 1 }), contentType: binarizer.contentType };
export const RAW_TABLE = "raw_events";
export const RAW_CHANNEL = "raw_tail";

/** When a persist was started and acknowledged, in the writer (wall clock, ms). */
export interface Ack {
  readonly startedAt: number;
  readonly ackedAt: number;
}

/**
 * Runs a writer child of `kind` at `rate` events/s for `seconds` over `entities` entities, calls
 * `onAck(key, ack)` as acknowledgements arrive (key: the log position or stream sequence) and resolves with
 * the writer's achieved rate.
 */
export function runWriter(
  kind: LagKind,
  target: LagTarget,
  load: { rate: number; seconds: number; entities: number },
  onAck: (key: number, ack: Ack) => void,
): Promise<number> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [
    "writer",
    kind,
    JSON.stringify(target),
    JSON.stringify(load),
  ]);
  return new Promise((resolve, reject) => {
    child.on("message", (m: { ready?: true; acks?: number[]; done?: number }) => {
      if (m.ready) child.send("go");
      if (m.acks) {
        for (let i = 0; i < m.acks.length; i += 3) {
          onAck(m.acks[i]!, { startedAt: m.acks[i + 1]!, ackedAt: m.acks[i + 2]! });
        }
      }
      if (m.done !== undefined) resolve(m.done);
    });
    child.once("exit", (code) => {
      if (code !== 0) reject(new Error(`${kind} writer exited with ${code}`));
    });
  });
}

/**
 * The p50/p99 of `delivered - acked` and `delivered - started` over the keys both maps know, leaving out the
 * persists started in the first `warmupMs` of the writing (none by default).
 */
export function lagFigures(
  acked: ReadonlyMap<number, Ack>,
  delivered: ReadonlyMap<number, number>,
  achievedPerSecond: number,
  warmupMs = 0,
): LagResult {
  let firstStart = Number.POSITIVE_INFINITY;
  for (const ack of acked.values()) firstStart = Math.min(firstStart, ack.startedAt);
  const measuredFrom = firstStart + warmupMs;
  const fromAck: number[] = [];
  const fromStart: number[] = [];
  for (const [key, ack] of acked) {
    if (ack.startedAt < measuredFrom) continue;
    const d = delivered.get(key);
    if (d === undefined) continue;
    fromAck.push(Math.max(0, d - ack.ackedAt));
    fromStart.push(Math.max(0, d - ack.startedAt));
  }
  const q = (values: number[], p: number) => {
    values.sort((a, b) => a - b);
    return values[Math.min(values.length - 1, Math.floor(p * values.length))] ?? Number.NaN;
  };
  return {
    achievedPerSecond,
    matched: fromAck.length,
    p50Ms: q(fromAck, 0.5),
    p99Ms: q(fromAck, 0.99),
    startP50Ms: q(fromStart, 0.5),
    startP99Ms: q(fromStart, 0.99),
  };
}

async function writer(
  kind: LagKind,
  target: LagTarget,
  load: { rate: number; seconds: number; entities: number },
) {
  let acks: number[] = [];
  const ack = (key: number, startedAt: number) => {
    acks.push(key, startedAt, now());
  };
  const flusher = setInterval(() => {
    if (acks.length > 0) process.send?.({ acks });
    acks = [];
  }, 20);
  const write = await openWriter(kind, target, ack);
  process.send?.({ ready: true });
  await new Promise((resolve) => process.once("message", resolve));
  const total = load.rate * load.seconds;
  const t0 = performance.now();
  const pending = new Array<Promise<void> | undefined>(load.entities);
  const seqNos = new Array<number>(load.entities).fill(0);
  let issued = 0;
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * load.rate) / 1000));
    for (; issued < due; issued++) {
      const entity = issued % load.entities;
      const before = pending[entity];
      const seqNo = seqNos[entity]!;
      seqNos[entity] = seqNo + 1;
      pending[entity] = (before ?? Promise.resolve()).then(() => write.one(`e${entity}`, seqNo));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  await write.flush();
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(flusher);
  // Exiting right after `send` can drop the message: wait until it was handed to the channel.
  await new Promise((resolve) => process.send?.({ acks, done: total / seconds }, resolve));
  await write.close();
  process.exit(0);
}

interface Writer {
  /** Persists one event; acknowledges it with the time it was started. */
  one(id: string, expectedSeqNo: number): Promise<void>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

async function openWriter(
  kind: LagKind,
  target: LagTarget,
  ack: (key: number, startedAt: number) => void,
): Promise<Writer> {
  switch (kind) {
    case "ours-pg": {
      const log = await PostgresEvtLog.create({
        connectionString: target.databaseUrl,
        schema: target.name,
        setup: false,
        logger: silentLogger,
      });
      return {
        one: async (id, seqNo) => {
          const startedAt = now();
          ack((await log.persist("lag", id, seqNo, [EVENT])).position, startedAt);
        },
        flush: async () => {},
        close: () => log.close(),
      };
    }
    case "ours-nats": {
      const log = await NatsEvtLog.connect({
        servers: target.natsUrl,
        stream: { name: target.name, subjectPrefix: target.name },
        logger: silentLogger,
      });
      return {
        one: async (id, seqNo) => {
          const startedAt = now();
          ack((await log.persist("lag", id, seqNo, [EVENT])).position, startedAt);
        },
        flush: async () => {},
        close: () => log.close(),
      };
    }
    case "raw-pg":
      return rawPgWriter(target, ack);
    case "raw-nats": {
      const nc = await connect({ servers: target.natsUrl, noAsyncTraces: true });
      const js = jetstream(nc);
      return {
        one: async (id) => {
          const startedAt = now();
          ack((await js.publish(`${target.name}.${id}`, EVENT.bytes)).seq, startedAt);
        },
        flush: async () => {},
        close: () => nc.close(),
      };
    }
  }
}

/** A hand-written group commit: whatever queued up goes in one INSERT, and one NOTIFY tells the reader. */
async function rawPgWriter(
  target: LagTarget,
  ack: (key: number, startedAt: number) => void,
): Promise<Writer> {
  const client = new pg.Client({ connectionString: target.databaseUrl });
  await client.connect();
  const sql = `WITH ins AS (
      INSERT INTO "${target.name}".${RAW_TABLE} (id, bytes) SELECT id, $2::bytea FROM unnest($1::text[]) AS t(id)
      RETURNING position)
    SELECT (SELECT array_agg(position ORDER BY position) FROM ins) AS positions, pg_notify('${RAW_CHANNEL}', '') AS n`;
  let queue: { id: string; startedAt: number; done: () => void }[] = [];
  let running: Promise<void> | undefined;
  const drain = async () => {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      const res = await client.query(sql, [batch.map((b) => b.id), Buffer.from(EVENT.bytes)]);
      const positions = res.rows[0].positions as string[];
      for (let i = 0; i < positions.length; i++) ack(Number(positions[i]), batch[i]!.startedAt);
      for (const b of batch) b.done();
    }
    running = undefined;
  };
  return {
    one: (id) =>
      new Promise<void>((done) => {
        queue.push({ id, startedAt: now(), done });
        running ??= drain();
      }),
    flush: async () => {
      await running;
    },
    close: () => client.end(),
  };
}

/** Prepares a raw PostgreSQL tail's table in `schema`. */
export async function createRawPgTable(admin: pg.Pool, schema: string): Promise<void> {
  await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}";
    CREATE TABLE "${schema}".${RAW_TABLE} (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id text NOT NULL, bytes bytea NOT NULL)`);
}

/** A raw PostgreSQL tail: LISTEN, then read what is new; resolves a stop function. */
export async function rawPgTail(
  databaseUrl: string,
  schema: string,
  delivered: Map<number, number>,
): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let after = 0;
  let reading: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let failure: unknown;
  // One read at a time; a wake-up during a read makes it read once more. Stopping waits for the read in
  // flight, so the client is never ended under a query (its rejection would crash the process).
  const read = (): void => {
    if (stopped) return;
    if (reading !== undefined) {
      again = true;
      return;
    }
    reading = readNew()
      .catch((error: unknown) => {
        failure ??= error;
        stopped = true;
      })
      .finally(() => {
        reading = undefined;
      });
  };
  const readNew = async () => {
    do {
      again = false;
      for (;;) {
        const res = await client.query(
          `SELECT position FROM "${schema}".${RAW_TABLE} WHERE position > $1 ORDER BY position LIMIT 5000`,
          [after],
        );
        const at = now();
        for (const row of res.rows as { position: string }[]) delivered.set(Number(row.position), at);
        if (res.rows.length > 0) after = Number((res.rows.at(-1) as { position: string }).position);
        if (res.rows.length < 5000) break;
      }
    } while (again && !stopped);
  };
  client.on("notification", read);
  await client.query(`LISTEN ${RAW_CHANNEL}`);
  const poll = setInterval(read, 100);
  return async () => {
    stopped = true;
    clearInterval(poll);
    await reading;
    await client.end();
    if (failure !== undefined) throw failure;
  };
}

/** A raw JetStream tail: an ordered consumer on `stream`, consumed as messages come. */
export async function rawNatsTail(
  natsUrl: string,
  stream: string,
  delivered: Map<number, number>,
): Promise<() => Promise<void>> {
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], storage: StorageType.File });
  const consumer = await jetstream(nc).consumers.get(stream);
  const messages = await consumer.consume({ max_messages: 1000 });
  const done = (async () => {
    for await (const msg of messages) delivered.set(msg.seq, now());
  })();
  return async () => {
    messages.stop();
    await done;
    await jsm.streams.delete(stream).catch(() => {});
    await nc.close();
  };
}

if (process.argv[2] === "writer") {
  const [kind, target, load] = process.argv.slice(3);
  await writer(kind as LagKind, JSON.parse(target!) as LagTarget, JSON.parse(load!));
}
