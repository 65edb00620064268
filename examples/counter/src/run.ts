import {
  EntityRegistry,
  ErrorCode,
  type EvtLog,
  isEventSourcedError,
  type Logger,
  type RegistryStats,
  type SnapshotStore,
  silentLogger,
} from "@eventsourced/core";
import { counter, get } from "./counter.js";
import { type CounterBinarizerKind, counterBinarizer } from "./counter-binarizer.js";
import { CountingEvtLog } from "./counting-evt-log.js";
import { LatencyRecorder } from "./latency-recorder.js";
import { leavingRefusalsToTheRun } from "./ownership-lost.js";
import type { ProgressSink } from "./progress.js";
import { counterCmdAt, counterId } from "./workload.js";

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
  /**
   * At most this many counters are resident at once; beyond it the least recently used one is passivated
   * (and recovered again when it next gets a command). Default: no limit.
   */
  readonly maxActive?: number | undefined;
  /** Re-spawn every counter after the write phase and compare its value with the expected one. */
  readonly verify: boolean;
  /** Aborting stops sending commands; the counters drain what they have and the run still verifies. */
  readonly stop?: AbortSignal | undefined;
  /** Aborting also gives up waiting for recovery (a second Ctrl-C). */
  readonly abort?: AbortSignal | undefined;
  /**
   * Aborted when the run's lease on its store ended: it stops sending and does not verify, since another run
   * may be changing the counters by then (the run's fenced writes are refused from then on).
   */
  readonly leaseLost?: AbortSignal | undefined;
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
  /**
   * The run's lease on its store ended during the run (`leaseLost` aborted, or a write refused with
   * `OWNERSHIP_LOST`): not verified, since the counters may be another run's by then.
   */
  readonly leaseLost: boolean;
  /** The cap on resident counters; undefined: none. */
  readonly maxActive: number | undefined;
  /** Counters passivated during the run (start, write phase and recovery) to stay within `maxActive`. */
  readonly passivations: number;
}

function openCounters(options: RunCountersOptions, evtLog: EvtLog, abort: AbortSignal | undefined) {
  const useSnapshots = options.snapshotStore !== undefined && options.snapshotAfter > 0;
  const counters = new EntityRegistry(counter, {
    evtLog,
    binarizer: counterBinarizer(options.binarizer),
    snapshotStore: useSnapshots ? options.snapshotStore : undefined,
    snapshotAfter: useSnapshots ? options.snapshotAfter : undefined,
    mailboxSize: options.mailboxSize,
    passivation: { maxActive: options.maxActive },
    // A refusal of the run's fence is the run's own line to report (main.ts), not one warning per attempt.
    logger: leavingRefusalsToTheRun(options.logger ?? silentLogger),
  });
  // A second Ctrl-C gives up waiting for recovery: closing refuses what still waits for a counter.
  abort?.addEventListener("abort", () => void counters.close(), { once: true });
  return counters;
}

type Counters = ReturnType<typeof openCounters>;

async function currentValue(counters: Counters, id: string): Promise<bigint> {
  const result = await counters.send(id, get());
  // Get is read-only and never rejected; anything else means the definition changed under the example.
  if (result.kind !== "accepted") throw new Error(`Get was rejected by ${id}`);
  return result.reply;
}

/**
 * The value of every counter (recovering each), closing the registry when one cannot be recovered. The
 * counters that fit under `maxActive` are recovered first together, their events read in bulk.
 */
async function currentValues(
  counters: Counters,
  ids: readonly string[],
  maxActive: number | undefined,
): Promise<bigint[]> {
  try {
    await counters.prefetch(ids.slice(0, maxActive ?? ids.length));
    return await Promise.all(ids.map((id) => currentValue(counters, id)));
  } catch (error) {
    await counters.close();
    throw error;
  }
}

function passivations(stats: RegistryStats): number {
  const { idle, limit, explicit } = stats.passivations;
  return idle + limit + explicit;
}

const seconds = (fromMs: number): number => (performance.now() - fromMs) / 1000;

/**
 * The counter example's run: recovers `entityCount` counters, sends each `evtCount` commands (alternating
 * Inc and Dec; sequential per counter, concurrent across counters, at most `maxActive` counters at a time),
 * measures throughput and latency, then stops them, re-spawns them, measures recovery, and checks that
 * every recovered value is the value the run expected (the value at its start plus what its accepted
 * commands changed). The counters live in an `EntityRegistry`, which keeps at most `maxActive` of them
 * resident.
 *
 * Rejects when the counters cannot be spawned; a technical failure during the write phase ends it early and
 * is reported in the summary's `error`.
 */
export async function runCounters(options: RunCountersOptions): Promise<RunSummary> {
  const { entityCount, evtCount, stop, abort, progress, maxActive } = options;
  const ids = Array.from({ length: entityCount }, (_, i) => counterId(i));
  const startedAt = performance.now();
  const counters = openCounters(options, options.evtLog, abort);
  const values = await currentValues(counters, ids, maxActive);
  const startSeconds = seconds(startedAt);
  const startTotal = values.reduce((a, b) => a + b, 0n);
  options.onRecovered?.({ seconds: startSeconds, total: startTotal });

  const commandsPlanned = entityCount * evtCount;
  const latencies = new LatencyRecorder();
  const failed = new AbortController();
  let error: Error | undefined;
  let commands = 0;
  let rejected = 0;
  const halted = (): boolean =>
    failed.signal.aborted || stop?.aborted === true || options.leaseLost?.aborted === true;

  progress?.start(commandsPlanned);
  const writeStartedAt = performance.now();
  // Beyond the cap, counters take turns: each worker drives one counter to the end, then the next one.
  let next = 0;
  const workers = Math.min(entityCount, maxActive ?? entityCount);
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let i = next++; i < entityCount && !halted(); i = next++) {
        for (let k = 0; k < evtCount && !halted(); k++) {
          const sentAt = performance.now();
          try {
            const result = await counters.send(ids[i]!, counterCmdAt(k));
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
      }
    }),
  );
  const writeSeconds = seconds(writeStartedAt);
  progress?.finish();
  // A report hook: its failure (the log unreachable) must not hide the write phase's own outcome.
  await Promise.resolve()
    .then(() => options.onWritten?.())
    .catch(() => {});
  // Closing drains each mailbox and waits for snapshot saves, so the re-spawn below sees everything.
  await counters.close();

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
    leaseLost: options.leaseLost?.aborted === true || isEventSourcedError(error, ErrorCode.OwnershipLost),
    maxActive,
    passivations: passivations(counters.stats),
  };
  const unverified = {
    ...base,
    recoverySeconds: undefined,
    evtsReplayed: undefined,
    evtsReplayedPerSecond: undefined,
    verified: undefined,
    mismatches: [],
  };
  // After a persist failure the outcome of the failed command may be unknown, so no exact check is possible;
  // after the lease ended, the counters may be another run's.
  if (!options.verify || error !== undefined || abort?.aborted || base.leaseLost) return unverified;

  const counting = new CountingEvtLog(options.evtLog);
  const recoveryStartedAt = performance.now();
  const recovered = openCounters(options, counting, abort);
  try {
    const actual = await currentValues(recovered, ids, maxActive);
    if (options.leaseLost?.aborted) return { ...unverified, leaseLost: true };
    const recoverySeconds = seconds(recoveryStartedAt);
    const evtsReplayed = counting.evtsRead;
    const mismatches = ids.flatMap((id, i) =>
      actual[i] === values[i] ? [] : [{ id, expected: values[i]!, actual: actual[i]! }],
    );
    return {
      ...base,
      passivations: base.passivations + passivations(recovered.stats),
      recoverySeconds,
      evtsReplayed,
      evtsReplayedPerSecond: recoverySeconds > 0 ? evtsReplayed / recoverySeconds : 0,
      verified: mismatches.length === 0,
      mismatches,
    };
  } finally {
    await recovered.close();
  }
}
