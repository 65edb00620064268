/**
 * NATS JetStream benchmark: our runtime (Entity.spawn + NatsEvtLog, JSON binarizer, small events) against
 * raw JetStream publishing and reading on the same server, interleaved round by round so machine drift hits
 * both alike. Every round of every system writes into a fresh stream.
 *
 *   npx tsc -b bench && node bench/dist/nats.bench.js [--quick]
 *
 * Scenarios: (1) 1 entity, sequential commands vs sequential raw publishes with the expected last subject
 * sequence; (2) 32/100/1000 entities, each sending its next command when the previous one is acknowledged,
 * vs as many raw publishers on distinct subjects doing the same; (3) replay of one entity's events (one
 * message each, interleaved with another entity's) vs a raw ordered consumer reading the same number of
 * plain messages.
 */

import { Entity, type EntityRef, jsonBinarizer, type ProtocolOf, silentLogger } from "@eventsourced/core";
import { Header, NatsEvtLog } from "@eventsourced/evtlog-nats";
import { encodeEvtBatch } from "@eventsourced/evtlog-nats/internal";
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection, nuid } from "@nats-io/transport-node";
import { type CounterEvt, counter, EVT_JSON } from "./bench-counter.js";
import { type Measured, quantile, quick, rotateRounds, spread } from "./measure.js";
import { machineFacts, type ResultRow, writeResults } from "./results.js";
import { natsVersion } from "./service-versions.js";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const ROUNDS = quick ? 1 : 3;
const WINDOW_MS = quick ? 400 : 2_000;
const WARMUP_MS = quick ? 200 : 500;
const ENTITY_COUNTS = [32, 100, 1000] as const;
const REPLAY_EVENTS = quick ? 20_000 : 100_000;
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`;

const binarizer = jsonBinarizer<CounterEvt, number>();
const EVT_BYTES = new TextEncoder().encode(EVT_JSON);

type System = "ours" | "raw";

let streamCounter = 0;
const freshStream = (label: string) => `bench_${label}_${RUN_ID}_${streamCounter++}`;

interface Nats {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

async function connectNats(): Promise<Nats> {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: NATS_URL, noAsyncTraces: true });
  } catch (err) {
    throw new Error(
      `NATS is not reachable at ${NATS_URL} (${(err as Error).message}). Start it with ` +
        "`start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 " +
        "-js -sd /var/lib/nats-server -l /var/log/nats-server.log` or set NATS_URL.",
    );
  }
  return { nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
}

/** A stream like the one NatsEvtLog creates (file storage, no limits), for the raw baselines. */
async function createRawStream(nats: Nats, name: string): Promise<void> {
  await nats.jsm.streams.add({ name, subjects: [`${name}.>`], storage: "file", discard: "new" });
}

/** Runs `entities` closed loops (each sends its next command when the previous one is done) for `ms`. */
async function closedLoops(
  entities: number,
  ms: number,
  step: (entity: number, seq: number) => Promise<void>,
): Promise<Measured> {
  const deadline = performance.now() + ms;
  const latencies: number[] = [];
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: entities }, async (_, entity) => {
      let seq = 0;
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await step(entity, seq);
        latencies.push(performance.now() - t0);
        seq++;
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { perSecond: done / elapsed, latenciesMs: latencies };
}

// ---- writes

async function oursWrites(nats: Nats, entities: number, ms = WINDOW_MS): Promise<Measured> {
  const name = freshStream("ours");
  const log = await NatsEvtLog.connect({
    connection: nats.nc,
    stream: { name, subjectPrefix: name },
    logger: silentLogger,
  });
  try {
    const refs: EntityRef<ProtocolOf<typeof counter>>[] = await Promise.all(
      Array.from({ length: entities }, (_, i) =>
        Entity.spawn(`c-${i}`, counter, { evtLog: log, binarizer, logger: silentLogger }),
      ),
    );
    const measured = await closedLoops(entities, ms, async (entity) => {
      await refs[entity]!.handleCmd({ inc: 1 });
    });
    await Promise.all(refs.map((ref) => ref.stop()));
    return measured;
  } finally {
    await log.close();
    await nats.jsm.streams.delete(name);
  }
}

/** Raw: each publisher publishes its next event on its own subject with the expected last subject sequence. */
async function rawWrites(nats: Nats, entities: number, ms = WINDOW_MS): Promise<Measured> {
  const name = freshStream("raw");
  await createRawStream(nats, name);
  try {
    const lastSeq = new Array<number>(entities).fill(0);
    return await closedLoops(entities, ms, async (entity) => {
      const ack = await nats.js.publish(`${name}.counter.c-${entity}`, EVT_BYTES, {
        expect: { lastSubjectSequence: lastSeq[entity]! },
      });
      lastSeq[entity] = ack.seq;
    });
  } finally {
    await nats.jsm.streams.delete(name);
  }
}

// ---- replay

interface ReplayStream {
  readonly name: string;
  readonly log: NatsEvtLog;
  /** Subject of the raw messages (plain JSON bodies), one per event. */
  readonly rawSubject: string;
}

/**
 * One stream with `REPLAY_EVENTS` messages of entity `c-target` in NatsEvtLog's format (one event each, as
 * one command per event writes them, with the same headers), the same number of plain JSON messages on a raw
 * subject, and one message of another entity between any two of them, so that both readers filter.
 */
async function populateReplay(nats: Nats): Promise<ReplayStream> {
  const name = freshStream("replay");
  const log = await NatsEvtLog.connect({
    connection: nats.nc,
    stream: { name, subjectPrefix: name },
    logger: silentLogger,
  });
  const ours = `${name}.counter.c-target`;
  const rawSubject = `${name}.raw.c-target`;
  const noise = `${name}.counter.c-noise`;
  const evts = [{ bytes: EVT_BYTES, contentType: "application/json" }];
  const recordedAt = Date.now();
  const window = 2_000;
  for (let from = 1; from <= REPLAY_EVENTS; from += window) {
    const pending: Promise<unknown>[] = [];
    for (let seqNo = from; seqNo < from + window && seqNo <= REPLAY_EVENTS; seqNo++) {
      const hdrs = headers();
      hdrs.set(Header.FirstSeq, String(seqNo));
      hdrs.set(Header.Count, "1");
      // Published in order on one connection, so the stream stores them in this order: message seqNo lands
      // at stream sequence 4 * (seqNo - 1) + 1, which gives the expectation a real persist would send (the
      // headers a message carries are part of what a replay reads).
      pending.push(
        nats.js.publish(ours, encodeEvtBatch(seqNo, evts, recordedAt), {
          headers: hdrs,
          msgID: nuid.next(),
          expect: { lastSubjectSequence: seqNo === 1 ? 0 : 4 * (seqNo - 2) + 1 },
        }),
      );
      pending.push(nats.js.publish(noise, EVT_BYTES));
      // The raw messages carry what rawWrites sends: the expected last subject sequence.
      pending.push(
        nats.js.publish(rawSubject, EVT_BYTES, {
          expect: { lastSubjectSequence: seqNo === 1 ? 0 : 4 * (seqNo - 2) + 3 },
        }),
      );
      pending.push(nats.js.publish(noise, EVT_BYTES));
    }
    await Promise.all(pending);
  }
  if ((await log.lastSeqNo("counter", "c-target")) !== REPLAY_EVENTS)
    throw new Error("replay stream not populated");
  return { name, log, rawSubject };
}

/** Our replay: spawning the entity recovers it from the log (read, decode, fold every event). */
async function oursReplay(replay: ReplayStream): Promise<Measured> {
  const t0 = performance.now();
  const ref = await Entity.spawn("c-target", counter, {
    evtLog: replay.log,
    binarizer,
    logger: silentLogger,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (ref.seqNo !== REPLAY_EVENTS) throw new Error(`replayed ${ref.seqNo} events, expected ${REPLAY_EVENTS}`);
  await ref.stop();
  return { perSecond: REPLAY_EVENTS / seconds };
}

/** Raw: an ordered consumer on the raw subject (consume, 1,000 messages per pull), decoding and folding. */
async function rawReplay(nats: Nats, replay: ReplayStream): Promise<Measured> {
  const t0 = performance.now();
  const last = await nats.jsm.streams.getMessage(replay.name, { last_by_subj: replay.rawSubject });
  const consumer = await nats.js.consumers.get(replay.name, { filter_subjects: replay.rawSubject });
  const messages = await consumer.consume({ max_messages: 1_000 });
  let state = 0;
  let count = 0;
  for await (const msg of messages) {
    state += (JSON.parse(new TextDecoder().decode(msg.data)) as CounterEvt).by;
    count++;
    if (msg.seq >= last!.seq) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  await consumer.delete().catch(() => {});
  if (count !== REPLAY_EVENTS || state !== REPLAY_EVENTS) throw new Error(`raw replay read ${count} events`);
  return { perSecond: REPLAY_EVENTS / seconds };
}

// ---- rounds and rows

/** Runs the systems in each round, alternating who goes first. */

const rounds = (systems: Partial<Record<System, () => Promise<Measured>>>) => rotateRounds(ROUNDS, systems);

const SERIES: Record<System, string> = { ours: "eventsourced-nats", raw: "raw-nats" };

function throughputRows(
  scenario: string,
  entities: number | undefined,
  results: Map<System, Measured[]>,
): ResultRow[] {
  const ours = spread(results.get("ours")!.map((m) => m.perSecond));
  const raw = spread(results.get("raw")!.map((m) => m.perSecond));
  // One event per command in the write scenarios; replay reads events.
  const unit = entities === undefined ? "events/s" : "commands/s";
  const tag = (system: System) => (entities === undefined ? {} : { series: SERIES[system], entities });
  return [
    {
      scenario,
      metric: "throughput",
      ...ours,
      unit,
      baseline: raw.value,
      ratio: ours.value / raw.value,
      ...tag("ours"),
    },
    { scenario, metric: "throughput", ...raw, unit, ...tag("raw") },
  ];
}

function latencyRows(scenario: string, results: Map<System, Measured[]>): ResultRow[] {
  const rows: ResultRow[] = [];
  for (const [metric, q] of [
    ["p50 command latency", 0.5],
    ["p99 command latency", 0.99],
  ] as const) {
    const ours = spread(results.get("ours")!.map((m) => quantile(m.latenciesMs ?? [0], q)));
    const raw = spread(results.get("raw")!.map((m) => quantile(m.latenciesMs ?? [0], q)));
    rows.push({ scenario, metric, ...ours, unit: "ms", baseline: raw.value, ratio: raw.value / ours.value });
  }
  return rows;
}

async function main(): Promise<void> {
  const nats = await connectNats();
  const version = (await natsVersion(NATS_URL)) ?? "unknown";
  console.log(`${version} at ${NATS_URL}; ${ROUNDS} round(s) of ${WINDOW_MS} ms${quick ? " (quick)" : ""}`);
  const rows: ResultRow[] = [];
  try {
    // Warm-up (not recorded): JIT and connection state for both systems before the first measured round.
    for (const entities of [1, 100]) {
      await oursWrites(nats, entities, WARMUP_MS);
      await rawWrites(nats, entities, WARMUP_MS);
    }
    const one = await rounds({ ours: () => oursWrites(nats, 1), raw: () => rawWrites(nats, 1) });
    rows.push(...throughputRows("1 entity", 1, one), ...latencyRows("1 entity", one));
    console.log("1 entity done");
    for (const entities of ENTITY_COUNTS) {
      const many = await rounds({
        ours: () => oursWrites(nats, entities),
        raw: () => rawWrites(nats, entities),
      });
      rows.push(...throughputRows(`${entities} entities`, entities, many));
      if (entities === 100) rows.push(...latencyRows("100 entities", many));
      console.log(`${entities} entities done`);
    }
    const replay = await populateReplay(nats);
    try {
      await oursReplay(replay);
      await rawReplay(nats, replay);
      const replayed = await rounds({ ours: () => oursReplay(replay), raw: () => rawReplay(nats, replay) });
      rows.push(
        ...throughputRows(
          `replay ${REPLAY_EVENTS.toLocaleString("en-US")} events (1 message each, 1 in 4 of the stream)`,
          undefined,
          replayed,
        ),
      );
      console.log("replay done");
    } finally {
      await replay.log.close();
      await nats.jsm.streams.delete(replay.name);
    }
  } finally {
    await nats.nc.close();
  }
  writeResults("nats", rows, machineFacts({ nats: version }));
}

await main();
