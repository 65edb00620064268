import { createHistogram } from "node:perf_hooks";

/** Options for {@link closedLoop}. */
export interface ClosedLoopOptions {
  /** Concurrent workers, each with one command in flight at a time (e.g. one per entity). */
  readonly workers: number;
  /** How long workers keep starting commands after the warm-up; the loop resolves when the last one is done. */
  readonly durationMs: number;
  /** Commands completing within this first period are not counted (JIT, connections, prepared statements). */
  readonly warmupMs?: number | undefined;
}

/** What one closed loop measured after its warm-up. */
export interface Measured {
  /** Commands completed after the warm-up per second, until the last worker finished. */
  readonly perSecond: number;
  /** CPU time of this process (user + system, GC included) per command completed after the warm-up, µs. */
  readonly cpuMicros: number;
  /** Latency percentiles of the commands started after the warm-up, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * The one load driver of every suite, for eventsourced and its baselines alike so that ratios compare like
 * with like: `workers` loops, each sending its next command (`step(worker, seq)`, seq counting from 0 per
 * worker) when the previous one is acknowledged, until `durationMs` after the warm-up.
 *
 * It counts the commands that complete after the warm-up, including those still in flight when the window
 * ends, over the time until the last one completes: with N workers and latency L that is N / L even when L
 * is longer than the window, where counting only completions inside the window would report nothing.
 */
export async function closedLoop(
  options: ClosedLoopOptions,
  step: (worker: number, seq: number) => Promise<unknown>,
): Promise<Measured> {
  const latencies = createHistogram();
  const from = performance.now() + (options.warmupMs ?? 0);
  const deadline = from + options.durationMs;
  let cpuFrom: NodeJS.CpuUsage | undefined;
  let counted = 0;
  await Promise.all(
    Array.from({ length: options.workers }, async (_, worker) => {
      // One clock read per command: the end of one is the start of the next.
      for (let seq = 0, now = performance.now(); now < deadline; seq++) {
        const started = now;
        await step(worker, seq);
        now = performance.now();
        if (now < from) continue;
        cpuFrom ??= process.cpuUsage();
        counted++;
        if (started >= from) latencies.record(Math.max(1, Math.round((now - started) * 1e6)));
      }
    }),
  );
  const seconds = (performance.now() - from) / 1000;
  const cpu = process.cpuUsage(cpuFrom);
  return {
    perSecond: counted / seconds,
    cpuMicros: (cpu.user + cpu.system) / Math.max(1, counted),
    p50Ms: latencies.percentile(50) / 1e6,
    p99Ms: latencies.percentile(99) / 1e6,
  };
}
