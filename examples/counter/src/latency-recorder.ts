/**
 * Collects command latencies (milliseconds) into a preallocated buffer, so that recording a million of
 * them costs no allocation on the hot path, and answers percentiles afterwards.
 */
export class LatencyRecorder {
  #samples: Float64Array;
  #count = 0;

  /** `capacity`: how many samples to expect; more are accepted (the buffer grows). */
  constructor(capacity: number) {
    this.#samples = new Float64Array(Math.max(1, capacity));
  }

  /** How many samples were recorded. */
  get count(): number {
    return this.#count;
  }

  /** Records one latency in milliseconds. */
  record(ms: number): void {
    if (this.#count === this.#samples.length) {
      const grown = new Float64Array(this.#samples.length * 2);
      grown.set(this.#samples);
      this.#samples = grown;
    }
    this.#samples[this.#count++] = ms;
  }

  /**
   * The `q`-quantile (0..1) by the nearest-rank method, or `undefined` without samples.
   * @example
   * recorder.percentile(0.99); // p99 in ms
   */
  percentile(q: number): number | undefined {
    if (this.#count === 0) return undefined;
    const sorted = this.#samples.slice(0, this.#count).sort();
    const rank = Math.min(this.#count, Math.max(1, Math.ceil(q * this.#count)));
    return sorted[rank - 1];
  }
}
