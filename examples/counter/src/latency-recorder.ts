import { createHistogram, type RecordableHistogram } from "node:perf_hooks";

/**
 * Collects command latencies (milliseconds) in Node's HDR histogram (`perf_hooks.createHistogram`): fixed
 * memory however many commands run (a run may plan up to 10^15), no allocation per sample, percentiles
 * to three significant digits.
 */
export class LatencyRecorder {
  readonly #histogram: RecordableHistogram = createHistogram();

  /** How many samples were recorded. */
  get count(): number {
    return this.#histogram.count;
  }

  /** Records one latency in milliseconds (kept in nanoseconds, at least 1). */
  record(ms: number): void {
    this.#histogram.record(Math.max(1, Math.round(ms * 1e6)));
  }

  /**
   * The `q`-quantile (0..1), or `undefined` without samples.
   * @example
   * recorder.percentile(0.99); // p99 in ms
   */
  percentile(q: number): number | undefined {
    if (this.#histogram.count === 0) return undefined;
    return this.#histogram.percentile(Math.min(100, Math.max(0, q * 100))) / 1e6;
  }
}
