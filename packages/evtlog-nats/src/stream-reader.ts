import { type Logger, ReadError } from "@eventsourced/core";
import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { reason } from "./connect-nats.js";

/** What {@link readStream} reads. */
export interface StreamReadOptions {
  readonly stream: string;
  /** One filter subject (nats-server 2.9 has no multi-filter consumers). */
  readonly filter: string;
  /** First stream sequence to deliver. */
  readonly startSeq: number;
  /** Last stream sequence to deliver (inclusive); omit to tail live until `signal` aborts. */
  readonly endSeq?: number;
  /** Messages per pull request. */
  readonly batch: number;
  readonly signal?: AbortSignal;
  readonly logger: Logger;
}

/** Pull requests of a live tail wait this long for messages before the next one is issued. */
const LIVE_EXPIRES_MS = 30_000;
/** Pull requests of a bounded read: long enough never to end a batch early on a busy server. */
const BOUNDED_EXPIRES_MS = 10_000;
/** The server removes a consumer that its reader abandoned (crash) after this long without a pull. */
const INACTIVE_THRESHOLD_MS = 60_000;
/** Consecutive failures of a bounded read before it gives up with `ReadError`. */
const BOUNDED_ATTEMPTS = 5;

/**
 * Messages matching `filter` in stream order from `startSeq`, through an ordered consumer (it detects a
 * missed delivery and restarts from the last message seen, so nothing is skipped or repeated).
 *
 * Backpressure: one pull of at most `batch` messages is outstanding at a time, and the next pull is sent
 * only after the previous batch has been taken by the caller, so memory stays bounded by one batch.
 * A bounded read ends after `endSeq`; a live read ends (without error) when `signal` aborts. When a pull
 * fails (server restart, consumer lost), the read resumes after the last delivered message on a new
 * consumer: a live read keeps trying, a bounded one gives up after a few attempts with `ReadError`.
 */
export async function* readStream(js: JetStreamClient, options: StreamReadOptions): AsyncGenerator<JsMsg> {
  const { signal, endSeq } = options;
  const live = endSeq === undefined;
  let next = options.startSeq;
  let consumer: Consumer | undefined;
  let messages: ConsumerMessages | undefined;
  let failures = 0;
  const onAbort = () => messages?.stop();
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal?.aborted && (live || next <= endSeq)) {
      try {
        consumer ??= await js.consumers.get(options.stream, {
          filter_subjects: options.filter,
          opt_start_seq: next,
          inactive_threshold: INACTIVE_THRESHOLD_MS,
        });
        messages = await consumer.fetch({
          max_messages: options.batch,
          expires: live ? LIVE_EXPIRES_MS : BOUNDED_EXPIRES_MS,
        });
        if (signal?.aborted) return;
        let delivered = 0;
        for await (const msg of messages) {
          // A message can be delivered after an abort that stopped the pull; the caller must not see it.
          if (signal?.aborted) return;
          next = msg.seq + 1;
          failures = 0;
          delivered++;
          yield msg;
          if (endSeq !== undefined && msg.seq >= endSeq) return;
        }
        // A pull answers at once while matching messages exist, so an empty bounded pull means none is left
        // (the end message was removed by an operator).
        if (!live && delivered === 0) return;
      } catch (err) {
        if (signal?.aborted) return;
        failures++;
        if (!live && failures >= BOUNDED_ATTEMPTS) {
          throw new ReadError(
            `reading ${options.filter} from stream ${options.stream} failed: ${reason(err)}`,
            {
              cause: err,
            },
          );
        }
        options.logger.warn("NATS read interrupted; resuming on a new consumer", {
          stream: options.stream,
          filter: options.filter,
          nextSeq: next,
          error: reason(err),
        });
        discard(consumer);
        consumer = undefined;
        await sleep(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)), signal);
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    messages?.stop();
    discard(consumer);
  }
}

/** Deletes a consumer we no longer read from; best effort, as the server expires it anyway. */
function discard(consumer: Consumer | undefined): void {
  consumer?.delete().catch(() => {});
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
