import {
  defineEntity,
  Entity,
  type EntityRef,
  emitAndReply,
  jsonBinarizer,
  PersistError,
  type ProtocolOf,
  silentLogger,
  type TypedEvtRecord,
} from "@eventsourced/core";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsServerProcess } from "./support/nats-server-process.js";

// A server crash (SIGKILL) and restart on the same port and store directory while entities write. The
// invariant: every acknowledged command's events are in the log exactly once, each entity's seqNos stay
// contiguous, and the entities carry on once the server is back.

interface Appended {
  readonly tag: string;
  readonly part: number;
}
type Cmd = { readonly tag: string };

const ENTITIES = 16;
const typeName = "restartee";
const appender = defineEntity<number, Cmd, Appended, number, never>({
  typeName,
  initialState: () => 0,
  // Two events per command, so a torn (non-atomic) write would show up as a lone part.
  handleCmd: (_state, cmd) =>
    emitAndReply<number, Appended, number>(
      [
        { tag: cmd.tag, part: 0 },
        { tag: cmd.tag, part: 1 },
      ],
      (state) => state,
    ),
  handleEvt: (state) => state + 1,
});

describe("NatsEvtLog across a nats-server restart", () => {
  let server: NatsServerProcess;
  let log: NatsEvtLog;

  beforeAll(async () => {
    server = await NatsServerProcess.start(["-js"]);
    log = await NatsEvtLog.connect({
      servers: server.url,
      stream: { name: "restart", subjectPrefix: "restart" },
      publishTimeoutMs: 1_000,
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await log?.close().catch(() => {});
    await server?.stop();
  });

  it("keeps every acknowledged event exactly once with contiguous seqNos, and the entities continue", async () => {
    const ids = Array.from({ length: ENTITIES }, (_, i) => `e-${i}`);
    const refs: EntityRef<ProtocolOf<typeof appender>>[] = await Promise.all(
      ids.map((id) =>
        Entity.spawn(id, appender, {
          evtLog: log,
          binarizer: jsonBinarizer<Appended, number>(),
          maxConflictRetries: 10,
          retryBackoff: { initialMs: 20, maxMs: 500 },
          logger: silentLogger,
        }),
      ),
    );
    const acked = new Map<string, { tag: string; seqNo: number }[]>(ids.map((id) => [id, []]));
    const failures: unknown[] = [];
    let phase: "before" | "down" | "after" = "before";
    const ackedAfterRestart = new Set<string>();
    let running = true;
    // A live by-type reader across both outages: it must see every stored event once, in order.
    const tail = new AbortController();
    const tailed: TypedEvtRecord[] = [];
    const tailer = (async () => {
      for await (const record of log.evtsByType(typeName, { live: true, signal: tail.signal }))
        tailed.push(record);
    })();

    const writers = refs.map(async (ref) => {
      for (let i = 0; running; i++) {
        const tag = `${ref.id}/${i}`;
        try {
          const result = await ref.handleCmd({ tag });
          if (result.kind === "accepted") {
            acked.get(ref.id)!.push({ tag, seqNo: result.seqNo });
            if (phase === "after") ackedAfterRestart.add(ref.id);
          }
        } catch (err) {
          failures.push(err);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    });

    // A short outage (publishes wait and are retried) and a long one (persists fail, entities re-sync).
    for (const downMs of [700, 3_500]) {
      const target = Math.min(...[...acked.values()].map((list) => list.length)) + 10;
      await waitUntil(
        () => [...acked.values()].every((list) => list.length >= target),
        30_000,
        "load before a crash",
      );
      phase = "down";
      ackedAfterRestart.clear();
      await server.kill();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await server.restart();
      phase = "after";
      await waitUntil(
        () => ackedAfterRestart.size === ENTITIES,
        30_000,
        "every entity writing after the restart",
      );
    }
    running = false;
    await Promise.all(writers);
    await Promise.all(refs.map((ref) => ref.stop()));

    for (const id of ids) {
      const records = [];
      for await (const record of log.evtsById(typeName, id, { from: 1 })) records.push(record);
      expect(records.map((r) => r.seqNo)).toEqual(records.map((_, i) => i + 1));
      const evts = records.map((r) => jsonBinarizer<Appended, number>().evtFromBytes(r.bytes, r.contentType));
      // Parts come in adjacent pairs of one command: no torn writes.
      for (let i = 0; i < evts.length; i += 2) {
        expect([evts[i]!.part, evts[i + 1]?.part, evts[i + 1]?.tag]).toEqual([0, 1, evts[i]!.tag]);
      }
      const tags = evts.filter((e) => e.part === 0).map((e) => e.tag);
      expect(new Set(tags).size).toBe(tags.length); // nothing stored twice
      const stored = new Map(records.filter((_, i) => i % 2 === 1).map((r, i) => [tags[i]!, r.seqNo]));
      for (const ack of acked.get(id)!)
        expect(stored.get(ack.tag), `${ack.tag} acknowledged`).toBe(ack.seqNo);
    }
    // The live reader catches up with everything stored, without gaps or repeats.
    const all = await collect(log.evtsByType(typeName));
    await waitUntil(() => tailed.length >= all.length, 30_000, "the live reader catching up");
    tail.abort();
    await tailer;
    expect(tailed.map((r) => `${r.id}/${r.seqNo}@${r.position}`)).toEqual(
      all.map((r) => `${r.id}/${r.seqNo}@${r.position}`),
    );
    // Recovered state equals the fold of the log.
    for (const id of ids.slice(0, 4)) {
      const ref = await Entity.spawn(id, appender, { evtLog: log, logger: silentLogger });
      expect(ref.seqNo).toBe(await log.lastSeqNo(typeName, id));
      await ref.stop();
    }
    expect(ackedAfterRestart.size).toBe(ENTITIES);
    // Failed commands failed with the typed error (outcome unknown while the server was away), nothing else.
    for (const err of failures) expect(err).toBeInstanceOf(PersistError);
  }, 120_000);
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
