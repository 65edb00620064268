import {
  Entity,
  type EntityRef,
  type EvtLog,
  type Logger,
  type ProtocolOf,
  type SnapshotStore,
  silentLogger,
} from "@eventsourced/core";
import { counter, get } from "./counter.js";
import { type CounterBinarizerKind, counterBinarizer } from "./counter-binarizer.js";
import { CountingEvtLog } from "./counting-evt-log.js";
import { LatencyRecorder } from "./latency-recorder.js";
import type { ProgressSink } from "./progress.js";
import { counterCmdAt, counterId } from "./workload.js";

type CounterRef = EntityRef<ProtocolOf<typeof counter>>;

/** Options of {@link runCounters}. */
export interface RunCountersOptions {
  readonly evtLog: EvtLog;
  /** Needed for snapshots; without it `snapshotAfter` is ignored. */
  readonly snapshotStore?: SnapshotStore | undefined;
  readonly entityCount: number;
  /** Commands sent to each counter. */
  readonly evtCount: number;
  /** Snapshot every this many events; 0 disables snapshots. */
  readonly snapshotAfter: number;
  readonly binarizer: CounterBinarizerKind;
  readonly mailboxSize: number;
  /** Re-spawn every counter after the write phase and compare its value with the expected one. */
  readonly verify: boolean;
  /** Aborting stops sending commands; the counters drain what they have and the run still verifies. */
  readonly stop?: AbortSignal | undefined;
  /** Aborting also gives up waiting for recovery (a second Ctrl-C). */
  readonly abort?: AbortSignal | undefined;
  readonly progress?: ProgressSink | undefined;
  /** Called once the counters are recovered, before the first command is sent. */
  readonly onRecovered?:
    | ((recovered: { readonly seconds: number; readonly total: bigint }) => void)
    | undefined;
  /** Called when the write phase ended, before the counters stop (the projection notes its lag then). */
  readonly onWritten?: (() => Promise<void> | void) | undefined;
  readonly logger?: Logger | undefined;
}

/** A counter whose recovered value differs from the value the run expected. */
export interface Mismatch {
  readonly id: string;
  readonly expected: bigint;
  readonly actual: bigint;
}

/** What a run did and measured. */
export interface RunSummary {
  readonly entityCount: number;
  readonly evtCount: number;
  /** Counters recovered at the start and the time that took. */
  readonly startSeconds: number;
  /** The sum of all counters' values when the run started. */
  readonly startTotal: bigint;
  /** The sum of all counters' values after the write phase. */
  readonly endTotal: bigint;
  /** Commands the run meant to send: `entityCount * evtCount`. */
  readonly commandsPlanned: number;
  /** Commands acknowledged (accepted or rejected). */
  readonly commands: number;
  readonly rejected: number;
  readonly writeSeconds: number;
  readonly commandsPerSecond: number;
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /** Undefined when verification was off or the run was aborted before it. */
  readonly recoverySeconds: number | undefined;
  readonly evtsReplayed: number | undefined;
  readonly evtsReplayedPerSecond: number | undefined;
  /** True: every recovered value equals the expected one; undefined: not checked. */
  readonly verified: boolean | undefined;
  readonly mismatches: readonly Mismatch[];
  /** The run was asked to stop before sending every command. */
  readonly interrupted: boolean;
  /** The technical failure that ended the write phase early, if any. */
  readonly error: Error | undefined;
}

async function spawnAll(
  options: RunCountersOptions,
  evtLog: EvtLog,
  signal: AbortSignal | undefined,
): Promise<CounterRef[]> {
  const binarizer = counterBinarizer(options.binarizer);
  const useSnapshots = options.snapshotStore !== undefined && options.snapshotAfter > 0;
  const ids = Array.from({ length: options.entityCount }, (_, i) => counterId(i));
  const settled = await Promise.allSettled(
    ids.map((id) =>
      Entity.spawn(id, counter, {
        evtLog,
        binarizer,
        snapshotStore: useSnapshots ? options.snapshotStore : undefined,
        snapshotAfter: useSnapshots ? options.snapshotAfter : undefined,
        mailboxSize: options.mailboxSize,
        logger: options.logger ?? silentLogger,
        signal,
      }),
    ),
  );
  const refs = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failure = settled.find((s) => s.status === "rejected");
  if (failure) {
    await Promise.all(refs.map((ref) => ref.stop()));
    throw failure.reason;
  }
  return refs;
}

async function currentValue(ref: CounterRef): Promise<bigint> {
  const result = await ref.handleCmd(get());
  // Get is read-only and never rejected; anything else means the definition changed under the example.
  if (result.kind !== "accepted") throw new Error(`Get was rejected by ${ref.id}`);
  return result.reply;
}

const seconds = (fromMs: number): number => (performance.now() - fromMs) / 1000;

/**
 * The counter example's run: recovers `entityCount` counters, sends each `evtCount` commands (alternating
 * Inc and Dec; sequential per counter, concurrent across counters), measures throughput and latency, then
 * stops them, re-spawns them, measures recovery, and checks that every recovered value is the value the
 * run expected (the value at its start plus what its accepted commands changed).
 *
 * Rejects when the counters cannot be spawned; a technical failure during the write phase ends it early and
 * is reported in the summary's `error`.
 */
export async function runCounters(options: RunCountersOptions): Promise<RunSummary> {
  const { entityCount, evtCount, stop, abort, progress } = options;
  const startedAt = performance.now();
  const refs = await spawnAll(options, options.evtLog, abort);
  let values: bigint[];
  try {
    values = await Promise.all(refs.map(currentValue));
  } catch (error) {
    await Promise.all(refs.map((ref) => ref.stop()));
    throw error;
  }
  const startSeconds = seconds(startedAt);
  const startTotal = values.reduce((a, b) => a + b, 0n);
  options.onRecovered?.({ seconds: startSeconds, total: startTotal });

  const commandsPlanned = entityCount * evtCount;
  const latencies = new LatencyRecorder(commandsPlanned);
  const failed = new AbortController();
  let error: Error | undefined;
  let commands = 0;
  let rejected = 0;
  const halted = (): boolean => failed.signal.aborted || stop?.aborted === true;

  progress?.start(commandsPlanned);
  const writeStartedAt = performance.now();
  await Promise.all(
    refs.map(async (ref, i) => {
      for (let k = 0; k < evtCount && !halted(); k++) {
        const sentAt = performance.now();
        try {
          const result = await ref.handleCmd(counterCmdAt(k));
          latencies.record(performance.now() - sentAt);
          if (result.kind === "accepted") values[i] = result.reply;
          else rejected++;
          commands++;
          progress?.update(commands);
        } catch (cause) {
          error ??= cause instanceof Error ? cause : new Error(String(cause));
          failed.abort(error);
        }
      }
    }),
  );
  const writeSeconds = seconds(writeStartedAt);
  progress?.finish();
  await options.onWritten?.();
  // Stopping drains each mailbox and waits for snapshot saves, so the re-spawn below sees everything.
  await Promise.all(refs.map((ref) => ref.stop()));

  const base = {
    entityCount,
    evtCount,
    startSeconds,
    startTotal,
    endTotal: values.reduce((a, b) => a + b, 0n),
    commandsPlanned,
    commands,
    rejected,
    writeSeconds,
    commandsPerSecond: writeSeconds > 0 ? commands / writeSeconds : 0,
    p50Ms: latencies.percentile(0.5),
    p99Ms: latencies.percentile(0.99),
    interrupted: stop?.aborted === true && commands < commandsPlanned,
    error,
  };
  // After a persist failure the outcome of the failed command may be unknown, so no exact check is possible.
  if (!options.verify || error !== undefined || abort?.aborted) {
    return {
      ...base,
      recoverySeconds: undefined,
      evtsReplayed: undefined,
      evtsReplayedPerSecond: undefined,
      verified: undefined,
      mismatches: [],
    };
  }

  const counting = new CountingEvtLog(options.evtLog);
  const recoveryStartedAt = performance.now();
  const recovered = await spawnAll(options, counting, abort);
  const recoverySeconds = seconds(recoveryStartedAt);
  const evtsReplayed = counting.evtsRead;
  try {
    const actual = await Promise.all(recovered.map(currentValue));
    const mismatches = recovered.flatMap((ref, i) =>
      actual[i] === values[i] ? [] : [{ id: ref.id, expected: values[i]!, actual: actual[i]! }],
    );
    return {
      ...base,
      recoverySeconds,
      evtsReplayed,
      evtsReplayedPerSecond: recoverySeconds > 0 ? evtsReplayed / recoverySeconds : 0,
      verified: mismatches.length === 0,
      mismatches,
    };
  } finally {
    await Promise.all(recovered.map((ref) => ref.stop()));
  }
}
