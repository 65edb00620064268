import { type CounterCmd, dec, inc } from "./counter.js";

/**
 * The id of the counter at `index`. Deterministic so that a second run against the same store recovers
 * the same entities and continues from their values.
 */
export function counterId(index: number): string {
  return `counter-${index}`;
}

/**
 * The `k`-th command (0-based) sent to each counter: alternately `Inc(k + 2)` and `Dec(k)`, so amounts vary,
 * a `Dec` never underflows, and every pair raises the value by exactly 1.
 */
export function counterCmdAt(k: number): CounterCmd {
  return k % 2 === 0 ? inc(k + 2) : dec(k);
}

/** How much the first `count` commands of {@link counterCmdAt} change a counter's value. */
export function netChangeOf(count: number): bigint {
  // Each complete pair adds 1; a trailing Inc(k + 2) adds k + 2 where k = count - 1.
  const pairs = BigInt(Math.floor(count / 2));
  return count % 2 === 0 ? pairs : pairs + BigInt(count - 1 + 2);
}
