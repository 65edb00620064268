import type { EvtRecord, NewEvt } from "../../evt-log.js";

// Helpers shared by the EvtLog contract's case groups.

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A new event whose bytes are `text` in UTF-8. */
export function evt(text: string, extra: Omit<NewEvt, "bytes"> = {}): NewEvt {
  return { bytes: encoder.encode(text), ...extra };
}

/** Reads `iterable` to its end, or its first `limit` items. */
export async function collect<T>(iterable: AsyncIterable<T>, limit = Number.POSITIVE_INFINITY): Promise<T[]> {
  const out: T[] = [];
  if (limit <= 0) return out;
  for await (const item of iterable) {
    out.push(item);
    if (out.length >= limit) break;
  }
  return out;
}

/** The bytes of `record` as UTF-8 text. */
export const text = (record: EvtRecord): string => decoder.decode(record.bytes);

/** Polls `condition` until it holds (a liveness bound, not a timing assertion). */
export async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
