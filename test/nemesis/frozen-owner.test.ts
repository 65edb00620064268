import {
  ClusterClient,
  type ClusterTransport,
  NatsTransport,
  type ServedRequest,
  shardOf,
  type TransportReply,
  type TransportSubscription,
} from "@eventsourced/cluster";
import { afterEach, describe, expect, it } from "vitest";
import { shardsHeld } from "./support/checks.js";
import { expectSafe } from "./support/expect-safe.js";
import { Harness, summary } from "./support/harness.js";

// A frozen owner (SIGSTOP) keeps its NATS connection, and so its shard subscriptions, until the server's
// ping check drops it (minutes by default). Its shards are taken over once their leases expire; this test
// measures, per shard, how long requests go unanswered after the new owner serves it, and counts the
// attempts that still went to the frozen node. Timing is reported, never asserted.
// The shard subjects are served without a queue group (ADR 0129): the frozen node still gets every request
// of its old shards, but the new owner gets them too and its reply is the one the sender takes. Before, in
// a queue group, NATS handed the frozen member a share of them and each such attempt waited out the
// sender's attemptTimeoutMs (10 s without an answer for some shards of a 12 s pause).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => process.hrtime.bigint();
const ms = (ns: bigint) => Number(ns) / 1e6;

/** One request of the transport: its subject, when it was sent and answered, and how it ended. */
interface AttemptRecord {
  readonly subject: string;
  readonly start: bigint;
  readonly end: bigint;
  readonly kind: TransportReply["kind"] | "not-owner" | "failed";
}

/** A transport recording every request (the attempts of the client's retry loop). */
class RecordingTransport implements ClusterTransport {
  readonly attempts: AttemptRecord[] = [];
  constructor(readonly inner: ClusterTransport) {}

  async request(subject: string, payload: Uint8Array, timeoutMs: number): Promise<TransportReply> {
    const start = now();
    try {
      const reply = await this.inner.request(subject, payload, timeoutMs);
      // A `NotOwner` reply is the one byte 1 (envelope.ts); every other reply is an answer.
      const notOwner = reply.kind === "reply" && reply.payload.length === 1 && reply.payload[0] === 1;
      this.attempts.push({ subject, start, end: now(), kind: notOwner ? "not-owner" : reply.kind });
      return reply;
    } catch (error) {
      this.attempts.push({ subject, start, end: now(), kind: "failed" });
      throw error;
    }
  }

  serve(subject: string, handler: (request: ServedRequest) => void): TransportSubscription {
    return this.inner.serve(subject, handler);
  }

  publish(subject: string, payload: Uint8Array): void {
    this.inner.publish(subject, payload);
  }

  subscribe(subject: string, handler: (payload: Uint8Array) => void): TransportSubscription {
    return this.inner.subscribe(subject, handler);
  }
}

/** One acknowledged probe. */
interface Probe {
  readonly shard: number;
  readonly sentAt: bigint;
  readonly answeredAt: bigint;
}

/**
 * How long the victim stays frozen after the last of its shards was taken over. The takeover itself comes
 * after about a TTL, or up to 10 s later on PostgreSQL when the freeze caught a strictly fenced batch
 * holding lease-row locks (ADR 0086), so the pause is measured from it.
 */
const AFTER_TAKEOVER_MS = Number(process.env.FROZEN_AFTER_TAKEOVER_MS ?? 10_000);

// Log and leases on PostgreSQL by default; NEMESIS_BACKENDS=postgres,nats adds the run on the NATS server.
const BACKENDS = (
  process.env.NEMESIS_BACKENDS ?? (process.env.NEMESIS_SCALE === "full" ? "postgres,nats" : "postgres")
).split(",") as ("postgres" | "nats")[];

describe.each(BACKENDS)(
  "nemesis: an owner frozen (SIGSTOP) past its leases, log and leases on %s",
  (backend) => {
    let harness: Harness | undefined;
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    it("its shards, once the new owner answers there, no longer send attempts to the frozen node", async () => {
      harness = await Harness.start(`${backend}_frozen_owner`, { backend, logServed: true });
      const h = harness;
      const transport = new RecordingTransport(new NatsTransport(h.nc));
      // The default retry options (attemptTimeoutMs 3 s), as an application would have them.
      const client = new ClusterClient({
        typeName: h.config.typeName,
        cluster: h.config.cluster,
        shardCount: h.config.shardCount,
        transport,
      });
      const slot = h.randomSlot();
      const victim = h.processes[slot]!;
      const victimShards = shardsHeld(h.record.shardEvents, victim.nodeId, now());
      // One entity per shard of the victim, probed by its own closed loop of acknowledged adds.
      const ids = victimShards.map((shard) => {
        for (let i = 0; ; i++) {
          const id = `frozen-${shard}-${i}`;
          if (shardOf(id, h.config.shardCount) === shard) return id;
        }
      });
      h.entities.push(...ids); // finish() compares their state with the fold of their log
      const probes: Probe[] = [];
      const failures: string[] = [];
      let probing = true;
      // Started before the pause, so every probed entity is active on the victim when it stops.
      const loops = victimShards.map(async (shard, i) => {
        const id = ids[i]!;
        for (let n = 0; probing; n++) {
          const tag = `frozen-${shard}-${n}`;
          const sentAt = now();
          try {
            const result = await client.send(id, { type: "add", tag }, { commandId: tag, timeoutMs: 60_000 });
            if (result.kind !== "accepted" && result.kind !== "duplicate") {
              failures.push(`${tag}: ${JSON.stringify(result)}`);
              continue;
            }
            probes.push({ shard, sentAt, answeredAt: now() });
            h.workload.acked.set(tag, { id, seqNo: result.seqNo });
            h.workload.tally.acked++;
          } catch (error) {
            failures.push(`${tag}: ${String(error)}`);
          }
          await sleep(50);
        }
      });

      let stoppedAt = 0n;
      let resumedAt = 0n;
      // The harness's own workload runs meanwhile (its client retries after 1 s attempts).
      await h.run(async () => {
        await sleep(1_000);
        await victim.pause();
        stoppedAt = now();
        // Liveness bound: every shard of the victim gets a new owner.
        const until = Date.now() + 60_000;
        while (
          !victimShards.every((shard) =>
            h.record.shardEvents.some(
              (e) =>
                e.ev === "acquired" && e.shard === shard && e.nodeId !== victim.nodeId && e.at > stoppedAt,
            ),
          )
        ) {
          if (Date.now() > until) throw new Error("the frozen node's shards were not all taken over in 60 s");
          await sleep(50);
        }
        await sleep(AFTER_TAKEOVER_MS);
        resumedAt = now();
        victim.resume();
        await sleep(2_000);
        probing = false;
        await Promise.all(loops);
      });
      client.stop();
      const report = await h.finish();

      // Per shard of the victim: the takeover, and what the clients saw between it and the SIGCONT.
      const perShard = victimShards.map((shard) => {
        const subject = client.subjects.shard(shard);
        const takeover = h.record.shardEvents.find(
          (e) =>
            e.ev === "acquired" &&
            e.shard === shard &&
            e.nodeId !== victim.nodeId &&
            e.at > stoppedAt &&
            e.at < resumedAt,
        )?.at;
        if (takeover === undefined) return { shard, takenOver: false as const };
        const answered = probes.filter((p) => p.shard === shard && p.answeredAt > takeover);
        const firstAnswer = answered.reduce<bigint | undefined>(
          (min, p) => (min === undefined || p.answeredAt < min ? p.answeredAt : min),
          undefined,
        );
        // The longest any request of the shard waited while a live owner served it and the victim was frozen.
        const longestWait = answered
          .filter((p) => p.sentAt < resumedAt)
          .map((p) => {
            const from = p.sentAt > takeover ? p.sentAt : takeover;
            const to = p.answeredAt < resumedAt ? p.answeredAt : resumedAt;
            return ms(to - from);
          })
          .reduce((a, b) => Math.max(a, b), 0);
        const attempts = transport.attempts.filter(
          (a) => a.subject === subject && a.start >= takeover && a.start < resumedAt,
        );
        // Once the new owner answered, its subscription is surely in place: an attempt after that which
        // times out went to the frozen node (the only other subscriber).
        const settled = firstAnswer === undefined ? [] : attempts.filter((a) => a.start >= firstAnswer);
        const after = transport.attempts.filter((a) => a.subject === subject && a.start >= resumedAt);
        return {
          shard,
          takenOver: true as const,
          takeoverAfterStopMs: ms(takeover - stoppedAt),
          firstAnswerAfterTakeoverMs:
            firstAnswer === undefined ? Number.POSITIVE_INFINITY : ms(firstAnswer - takeover),
          longestWaitMs: longestWait,
          attempts: attempts.length,
          timedOut: attempts.filter((a) => a.kind === "timeout").length,
          answeredLatencies: attempts.filter((a) => a.kind === "reply").map((a) => ms(a.end - a.start)),
          settledAttempts: settled.length,
          settledTimedOut: settled.filter((a) => a.kind === "timeout").length,
          notOwnerAfterResume: after.filter((a) => a.kind === "not-owner").length,
        };
      });
      const taken = perShard.flatMap((s) => (s.takenOver ? [s] : []));
      const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
      const p50 = (values: number[]) => sorted(values)[Math.floor(values.length / 2)] ?? 0;
      const max = (values: number[]) => sorted(values).at(-1) ?? 0;
      const firsts = taken.map((s) => s.firstAnswerAfterTakeoverMs);
      const waits = taken.map((s) => s.longestWaitMs);
      // Requests delivered to the victim's subscriptions for shards it no longer served (handled after SIGCONT).
      const deliveredToFrozen = h.record.served.filter(
        (s) => s.nodeId === victim.nodeId && !s.owner && s.at >= resumedAt,
      ).length;
      console.log(
        summary(report, {
          pauseMs: Math.round(ms(resumedAt - stoppedAt)),
          victimShards: victimShards.length,
          takenOver: taken.length,
          takeoverAfterStopP50Ms: Math.round(p50(taken.map((s) => s.takeoverAfterStopMs))),
          firstAnswerAfterTakeoverP50Ms: Math.round(p50(firsts)),
          firstAnswerAfterTakeoverMaxMs: Math.round(max(firsts)),
          longestWaitAfterTakeoverP50Ms: Math.round(p50(waits)),
          longestWaitAfterTakeoverMaxMs: Math.round(max(waits)),
          attemptsAfterTakeover: taken.reduce((n, s) => n + s.attempts, 0),
          attemptsTimedOutAfterTakeover: taken.reduce((n, s) => n + s.timedOut, 0),
          answeredAttemptAfterTakeoverP50Ms: Math.round(p50(taken.flatMap((s) => s.answeredLatencies))),
          answeredAttemptAfterTakeoverMaxMs: Math.round(max(taken.flatMap((s) => s.answeredLatencies))),
          attemptsAfterFirstAnswer: taken.reduce((n, s) => n + s.settledAttempts, 0),
          attemptsAfterFirstAnswerTimedOut: taken.reduce((n, s) => n + s.settledTimedOut, 0),
          notOwnerRepliesAfterResume: taken.reduce((n, s) => n + s.notOwnerAfterResume, 0),
          deliveredToFrozenNodeForLostShards: deliveredToFrozen,
          probeFailures: failures.length,
        }),
      );

      // Safety as in every nemesis run.
      expectSafe(report);
      expect(failures).toEqual([]);
      expect(taken.length).toBe(victimShards.length);
      // Liveness: once the new owner answered on a shard (so it is surely subscribed), no attempt there went
      // unanswered for the sender's whole 3 s attemptTimeoutMs while the victim was frozen, i.e. none was
      // left to the frozen node alone (before ADR 0129 about a quarter of them were).
      expect(taken.reduce((n, s) => n + s.settledAttempts, 0)).toBeGreaterThan(0);
      expect(taken.filter((s) => s.settledTimedOut > 0).map((s) => s.shard)).toEqual([]);
    });
  },
);
