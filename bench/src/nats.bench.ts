/**
 * `npm run bench:nats [-- --quick]`: our runtime (Entity.spawn + NatsEvtLog, JSON binarizer, small events)
 * against raw JetStream publishing and reading on the same server, in rotating rounds so machine drift hits
 * both alike. Every round of every system writes into a fresh stream. Its scenarios and baselines are those
 * of bench/README.md, "What each suite measures"; each baseline's function below says what it does.
 */

import { silentLogger } from "@eventsourced/core";
import { Header, NatsEvtLog } from "@eventsourced/evtlog-nats";
import { encodeEvtBatch } from "@eventsourced/evtlog-nats/internal";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { headers, type NatsConnection, nuid } from "@nats-io/transport-node";
import { replayScenario, withClosed, writeScenarios } from "./adapter-suite.js";
import { type CounterEvt, driveCounters, EVT_JSON, replayCounter } from "./bench-counter.js";
import { closedLoop } from "./closed-loop.js";
import { quick } from "./measure.js";
import { machineFacts, writeResults } from "./results.js";
import { connectBenchNats, NATS_URL, natsVersion } from "./service-versions.js";

const ROUNDS = quick ? 1 : 3;
const LOOP = { durationMs: quick ? 400 : 2_000, warmupMs: quick ? 200 : 500 };
const REPLAY_EVENTS = quick ? 20_000 : 100_000;
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const EVT_BYTES = new TextEncoder().encode(EVT_JSON);

const nc: NatsConnection = await connectBenchNats();
const js = jetstream(nc);
const jsm = await jetstreamManager(nc);
let streams = 0;

/** Runs `body` with a fresh stream name (also its subject prefix) and deletes that stream afterwards. */
async function withStream<T>(label: string, body: (name: string) => Promise<T>): Promise<T> {
  const name = `bench_${label}_${RUN_ID}_${streams++}`;
  try {
    return await body(name);
  } finally {
    await jsm.streams.delete(name).catch(() => {});
  }
}

const connectLog = (name: string) =>
  NatsEvtLog.connect({ connection: nc, stream: { name, subjectPrefix: name }, logger: silentLogger });

const oursWrites = (entities: number) =>
  withStream("ours", (name) =>
    withClosed(connectLog(name), (log) => driveCounters(log, { ...LOOP, workers: entities })),
  );

/** Tenures (shards) the fenced entities are spread over, as a cluster spreads its entities. */
const FENCED_SHARDS = 8;

/**
 * Ours with strict fencing, as a cluster on NATS writes: the entities spread over `FENCED_SHARDS` fenced views
 * (one per shard tenure, ADR 0087), so each entity gets its epoch marker on spawn and every persist carries
 * the fence. NATS fencing needs no lease store: the epoch is the view's.
 */
const oursFencedWrites = (entities: number) =>
  withStream("fenced", (name) =>
    withClosed(connectLog(name), (log) => {
      const shards = Array.from({ length: FENCED_SHARDS }, (_, shard) =>
        log.fenced({ epoch: 1, owner: `bench-shard-${shard}` }),
      );
      return driveCounters(log, { ...LOOP, workers: entities }, "c-", (i) => shards[i % FENCED_SHARDS]!);
    }),
  );

/** Raw: each publisher publishes its next event on its own subject with the expected last subject sequence. */
const rawWrites = (entities: number) =>
  withStream("raw", async (name) => {
    // A stream like the one NatsEvtLog creates: file storage, no limits.
    await jsm.streams.add({ name, subjects: [`${name}.>`], storage: "file", discard: "new" });
    const lastSeq = new Array<number>(entities).fill(0);
    return closedLoop({ ...LOOP, workers: entities }, async (entity) => {
      const ack = await js.publish(`${name}.counter.c-${entity}`, EVT_BYTES, {
        expect: { lastSubjectSequence: lastSeq[entity]! },
      });
      lastSeq[entity] = ack.seq;
    });
  });

/**
 * Fills stream `name` with `REPLAY_EVENTS` messages of entity `c-target` in NatsEvtLog's format (one event
 * each, as one command per event writes them, with the same headers), the same number of plain JSON messages
 * on a raw subject, and one message of another entity between any two of them, so that both readers filter.
 */
async function populateReplay(name: string): Promise<NatsEvtLog> {
  const log = await connectLog(name);
  const evts = [{ bytes: EVT_BYTES, contentType: "application/json" }];
  const recordedAt = Date.now();
  for (let from = 1; from <= REPLAY_EVENTS; from += 2_000) {
    const pending: Promise<unknown>[] = [];
    for (let seqNo = from; seqNo < from + 2_000 && seqNo <= REPLAY_EVENTS; seqNo++) {
      const hdrs = headers();
      hdrs.set(Header.FirstSeq, String(seqNo));
      hdrs.set(Header.Count, "1");
      // Published in order on one connection, so the stream stores them in this order: message seqNo lands
      // at stream sequence 4 * (seqNo - 1) + 1, which gives the expectation a real persist would send (the
      // headers a message carries are part of what a replay reads). The raw messages carry what rawWrites
      // sends: the expected last subject sequence.
      const expected = (offset: number) => ({
        lastSubjectSequence: seqNo === 1 ? 0 : 4 * (seqNo - 2) + offset,
      });
      pending.push(
        js.publish(`${name}.counter.c-target`, encodeEvtBatch(seqNo, evts, recordedAt), {
          headers: hdrs,
          msgID: nuid.next(),
          expect: expected(1),
        }),
        js.publish(`${name}.counter.c-noise`, EVT_BYTES),
        js.publish(`${name}.raw.c-target`, EVT_BYTES, { expect: expected(3) }),
        js.publish(`${name}.counter.c-noise`, EVT_BYTES),
      );
    }
    await Promise.all(pending);
  }
  if ((await log.lastSeqNo("counter", "c-target")) !== REPLAY_EVENTS)
    throw new Error("replay stream not populated");
  return log;
}

/** Raw: an ordered consumer on the raw subject (consume, 1,000 messages per pull), decoding and folding. */
async function rawReplay(name: string): Promise<number> {
  const started = performance.now();
  const subject = `${name}.raw.c-target`;
  const last = await jsm.streams.getMessage(name, { last_by_subj: subject });
  const consumer = await js.consumers.get(name, { filter_subjects: subject });
  let state = 0;
  let count = 0;
  for await (const msg of await consumer.consume({ max_messages: 1_000 })) {
    state += (JSON.parse(new TextDecoder().decode(msg.data)) as CounterEvt).by;
    count++;
    if (msg.seq >= last!.seq) break;
  }
  const seconds = (performance.now() - started) / 1000;
  await consumer.delete().catch(() => {});
  if (count !== REPLAY_EVENTS || state !== REPLAY_EVENTS) throw new Error(`raw replay read ${count} events`);
  return REPLAY_EVENTS / seconds;
}

async function main(): Promise<void> {
  const version = (await natsVersion(NATS_URL)) ?? "unknown";
  const rounds = `${ROUNDS} round(s) of ${LOOP.durationMs} ms${quick ? " (quick)" : ""}`;
  console.log(`${version} at ${NATS_URL}; ${rounds}`);
  const rows = await writeScenarios({
    rounds: ROUNDS,
    ours: { series: "eventsourced-nats", run: oursWrites },
    raw: { series: "raw-nats", run: rawWrites },
    others: { "eventsourced fenced": { series: "eventsourced-nats-fenced", run: oursFencedWrites } },
    latencies: { 1: ["p50", "p99"], 100: ["p50", "p99"] },
  });
  const scenario = `replay ${REPLAY_EVENTS.toLocaleString("en-US")} events (1 message each, 1 in 4 of the stream)`;
  const replay = await withStream("replay", (name) =>
    withClosed(populateReplay(name), (log) =>
      replayScenario(scenario, ROUNDS, {
        ours: () => replayCounter(log, "c-target", REPLAY_EVENTS),
        raw: () => rawReplay(name),
      }),
    ),
  );
  writeResults("nats", [...rows, ...replay], machineFacts({ nats: version }));
}

await main().finally(() => nc.close());
