import { jsonBinarizer } from "@eventsourced/core";

/** The events the tests project: an account's deposits (a tagged amount per event). */
export interface Deposited {
  readonly amount: number;
  /** Set on events the test handlers treat as poison. */
  readonly poison?: boolean | undefined;
}

export const depositBinarizer = jsonBinarizer<Deposited, unknown>();

/** Encodes a deposit for `EvtLog.persist`. */
export function deposit(amount: number, poison = false): { bytes: Uint8Array; contentType: string } {
  return {
    bytes: depositBinarizer.evtToBytes(poison ? { amount, poison } : { amount }),
    contentType: depositBinarizer.contentType,
  };
}

/** Polls `condition` every 10 ms; fails after `timeoutMs` naming `what` (a liveness bound, not a timing claim). */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A seeded pseudo-random generator (mulberry32), so chaos runs can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
