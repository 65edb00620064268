import { createHistogram } from "node:perf_hooks";

/** Options for {@link closedLoop}. */
export interface ClosedLoopOptions {
  /** Concurrent workers, each with one command in flight at a time (e.g. one per entity). */
  readonly workers: number;
  /** The counted window; workers start no command after it and the loop resolves when they are done. */
  readonly durationMs: number;
  /** Commands completing before the window are not counted (JIT, connections, prepared statements). */
  readonly warmupMs?: number | undefined;
}

/** What one closed loop measured in its counted window. */
export interface Measured {
  /** Commands completed in the window per second. */
  readonly perSecond: number;
  /** CPU time of this process (user + system, GC included) per command completed after the warm-up, µs. */
  readonly cpuMicros: number;
  /** Latency percentiles of the commands that started and completed in the window, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * The one load driver of every suite, for eventsourced and its baselines alike so that ratios compare like
 * with like: `workers` loops, each sending its next command (`step(worker, seq)`, seq counting from 0 per
 * worker) when the previous one is acknowledged.
 */
export async function closedLoop(
  options: ClosedLoopOptions,
  step: (worker: number, seq: number) => Promise<unknown>,
): Promise<Measured> {
  const latencies = createHistogram();
  const from = performance.now() + (options.warmupMs ?? 0);
  const deadline = from + options.durationMs;
  let cpuFrom: NodeJS.CpuUsage | undefined;
  let inWindow = 0;
  let afterWarmup = 0;
  await Promise.all(
    Array.from({ length: options.workers }, async (_, worker) => {
      // One clock read per command: the end of one is the start of the next.
      for (let seq = 0, now = performance.now(); now < deadline; seq++) {
        const started = now;
        await step(worker, seq);
        now = performance.now();
        if (now < from) continue;
        cpuFrom ??= process.cpuUsage();
        afterWarmup++;
        if (now > deadline) continue;
        inWindow++;
        if (started >= from) latencies.record(Math.max(1, Math.round((now - started) * 1e6)));
      }
    }),
  );
  const cpu = process.cpuUsage(cpuFrom);
  return {
    perSecond: inWindow / (options.durationMs / 1000),
    cpuMicros: (cpu.user + cpu.system) / Math.max(1, afterWarmup),
    p50Ms: latencies.percentile(50) / 1e6,
    p99Ms: latencies.percentile(99) / 1e6,
  };
}
