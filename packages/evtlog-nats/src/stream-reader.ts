import { type Logger, ReadError } from "@eventsourced/core";
import type { Consumer, ConsumerMessages, FetchMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { reason } from "./connect-nats.js";

/** What {@link readStream} reads. */
export interface StreamReadOptions {
  readonly stream: string;
  /** One filter subject (nats-server 2.9 has no multi-filter consumers). */
  readonly filter: string;
  /** First stream sequence to deliver. */
  readonly startSeq: number;
  /** Last stream sequence to deliver (inclusive); omit to tail live until `signal` aborts. */
  readonly endSeq?: number | undefined;
  /** Messages per pull request. */
  readonly batch: number;
  readonly signal?: AbortSignal | undefined;
  readonly logger: Logger;
}

/**
 * Pull requests of a live tail wait this long for messages before the next one is issued. Short, because a
 * pull request does not survive a server restart: the next one notices (no consumer answers) and the read
 * resumes on a new consumer within seconds.
 */
const LIVE_EXPIRES_MS = 5_000;
/** Pull requests of a bounded read: long enough never to end a batch early on a busy server. */
const BOUNDED_EXPIRES_MS = 10_000;
/** The server removes a consumer that its reader abandoned (crash) after this long without a pull. */
const INACTIVE_THRESHOLD_MS = 60_000;
/** Consecutive failures of a bounded read before it gives up with `ReadError`. */
const BOUNDED_ATTEMPTS = 5;

/**
 * Messages matching `filter` in stream order from `startSeq`, in batches, through an ordered consumer (it
 * detects a missed delivery and restarts from the last message seen, so nothing is skipped or repeated).
 *
 * A bounded read (with `endSeq`) keeps one pull ahead: while the caller works through one batch, the next
 * is already on its way, so memory stays bounded by two batches and replay does not wait a round trip per
 * batch. A live read keeps a pull outstanding whenever fewer than `batch` messages wait for the caller,
 * collects what arrives in a buffer and yields the whole buffer each time the caller asks (so a burst costs
 * one step of the iteration, not one per message, and a quiet stream still yields each message at once);
 * it ends without error when `signal` aborts. When a pull fails (server restart, consumer lost), the read
 * resumes after the last delivered message on a new consumer: a live read keeps trying, a bounded one gives
 * up after a few attempts with `ReadError`.
 */
export async function* readStream(
  js: JetStreamClient,
  options: StreamReadOptions,
): AsyncGenerator<readonly JsMsg[]> {
  const reader = new OrderedReader(js, options);
  try {
    if (options.endSeq === undefined) yield* reader.live();
    else yield* reader.bounded(options.endSeq);
  } finally {
    reader.close();
  }
}

class OrderedReader {
  readonly #js: JetStreamClient;
  readonly #options: StreamReadOptions;
  #next: number;
  #consumer: Consumer | undefined;
  #messages: ConsumerMessages | undefined;
  #failures = 0;
  readonly #onAbort = () => this.#messages?.stop();

  constructor(js: JetStreamClient, options: StreamReadOptions) {
    this.#js = js;
    this.#options = options;
    this.#next = options.startSeq;
    options.signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  get #aborted(): boolean {
    return this.#options.signal?.aborted === true;
  }

  async *bounded(endSeq: number): AsyncGenerator<readonly JsMsg[]> {
    let inflight: Promise<JsMsg[]> | undefined;
    while (!this.#aborted && this.#next <= endSeq) {
      let msgs: JsMsg[];
      try {
        msgs = await (inflight ?? this.#pull(endSeq));
      } catch (err) {
        await this.#recover(err, BOUNDED_ATTEMPTS);
        inflight = undefined;
        continue;
      }
      // A pull answers at once while matching messages exist, so an empty one means none is left (the end
      // message was removed by an operator).
      if (msgs.length === 0 || this.#aborted) return;
      this.#failures = 0;
      this.#next = msgs[msgs.length - 1]!.seq + 1;
      inflight = this.#next <= endSeq ? this.#pull(endSeq) : undefined;
      // Handled here so that a failed prefetch the caller never waits for (it stopped early) is not reported
      // as an unhandled rejection; awaiting `inflight` above still sees the error.
      inflight?.catch(() => {});
      yield msgs;
    }
  }

  async *live(): AsyncGenerator<readonly JsMsg[]> {
    const { batch } = this.#options;
    let buffer: JsMsg[] = [];
    let pulling = false;
    let failure: unknown;
    // Messages of a pull that a recovery abandoned must not reach the buffer after it.
    let generation = 0;
    let wake: (() => void) | undefined;
    const notify = () => {
      const resolve = wake;
      wake = undefined;
      resolve?.();
    };
    while (!this.#aborted) {
      if (!pulling && failure === undefined && buffer.length < batch) {
        const current = ++generation;
        try {
          // Collected by callback: the pull's messages are buffered as they arrive, without a step of async
          // iteration per message, and the next pull goes out as soon as this one completes.
          const messages = await this.#fetch(LIVE_EXPIRES_MS, (msg) => {
            if (current !== generation || this.#aborted) return;
            buffer.push(msg);
            if (buffer.length === 1) notify();
          });
          pulling = true;
          void messages.closed().then(
            (err) => {
              if (current !== generation) return;
              pulling = false;
              if (err) failure = err;
              notify();
            },
            (err: unknown) => {
              if (current !== generation) return;
              pulling = false;
              failure = err;
              notify();
            },
          );
        } catch (err) {
          failure = err;
        }
      }
      if (buffer.length > 0) {
        const out = buffer;
        buffer = [];
        this.#next = out[out.length - 1]!.seq + 1;
        this.#failures = 0;
        yield out;
        continue;
      }
      if (failure !== undefined) {
        const err = failure;
        failure = undefined;
        generation++;
        pulling = false;
        if (this.#aborted) return;
        await this.#recover(err, Number.POSITIVE_INFINITY);
        continue;
      }
      if (!pulling) continue;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  }

  close(): void {
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    this.#messages?.stop();
    discard(this.#consumer);
  }

  /** One pull of up to `batch` messages, collected; stops early at `endSeq`. */
  async #pull(endSeq: number): Promise<JsMsg[]> {
    const out: JsMsg[] = [];
    let atEnd = false;
    let messages: ConsumerMessages | undefined;
    // Collected by callback rather than by async iteration: one microtask per batch instead of per message.
    messages = await this.#fetch(BOUNDED_EXPIRES_MS, (msg) => {
      if (atEnd) return;
      out.push(msg);
      if (msg.seq >= endSeq) {
        atEnd = true;
        messages?.stop();
      }
    });
    if (atEnd) messages.stop();
    const err = await messages.closed();
    if (err) throw err;
    return out;
  }

  async #fetch(expires: number, callback?: (msg: JsMsg) => void): Promise<ConsumerMessages> {
    this.#consumer ??= await this.#js.consumers.get(this.#options.stream, {
      filter_subjects: this.#options.filter,
      opt_start_seq: this.#next,
      inactive_threshold: INACTIVE_THRESHOLD_MS,
    });
    // nats.js delivers a fetch's messages to `callback` when one is given (not in its FetchOptions type).
    const options: FetchMessages & { callback?: (msg: JsMsg) => void } = {
      max_messages: this.#options.batch,
      expires,
      ...(callback === undefined ? {} : { callback }),
    };
    this.#messages = await this.#consumer.fetch(options);
    return this.#messages;
  }

  /** After a failed pull: gives up after `attempts`, else waits (backoff) and starts a new consumer. */
  async #recover(err: unknown, attempts: number): Promise<void> {
    this.#failures++;
    const { stream, filter, logger, signal } = this.#options;
    if (this.#failures >= attempts) {
      throw new ReadError(`reading ${filter} from stream ${stream} failed: ${reason(err)}`, { cause: err });
    }
    logger.warn("NATS read interrupted; resuming on a new consumer", {
      stream,
      filter,
      nextSeq: this.#next,
      error: reason(err),
    });
    this.#messages?.stop();
    discard(this.#consumer);
    this.#consumer = undefined;
    await sleep(Math.min(5_000, 100 * 2 ** Math.min(this.#failures, 6)), signal);
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
    // A signal aborted already fires no more events.
    if (signal?.aborted) done();
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
