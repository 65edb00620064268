import { JetStreamApiError, type PubAck } from "@nats-io/jetstream";
import {
  ClosedConnectionError,
  createInbox,
  DrainingConnectionError,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  NoRespondersError,
  RequestError,
  type Status,
  type Subscription,
  TimeoutError,
} from "@nats-io/transport-node";

/** What `publishPersist` needs of a JetStream client: `JetStreamClient.publish`, or a {@link PublishMux}. */
export interface JetStreamPublisher {
  publish(
    subject: string,
    body: Uint8Array,
    options: {
      readonly msgID: string;
      readonly headers: MsgHdrs;
      readonly expect: { readonly lastSubjectSequence: number };
      readonly timeout: number;
    },
  ): Promise<Pick<PubAck, "seq" | "duplicate">>;
}

interface Pending {
  readonly subject: string;
  readonly deadline: number;
  resolve(ack: Pick<PubAck, "seq" | "duplicate">): void;
  reject(err: Error): void;
}

/**
 * A publish whose acknowledgement can no longer arrive: nats.js lost the connection it was (or was to be)
 * sent on and has reconnected. It may have been stored (it went out before the connection died) or not
 * (nats.js discards what it had not sent yet when it dials again): retry it with the same message id.
 */
export class PublishLostError extends Error {
  override readonly name = "PublishLostError";
  constructor() {
    super("the connection was lost before the publish was acknowledged; nats.js has reconnected");
  }
}

/**
 * A publish asked of a multiplexer already closed (its log was closed): refused before anything is sent. A
 * persist waiting to retry when its log closes ends with it instead of publishing on, and subscribing to,
 * a connection the log no longer uses.
 */
export class PublisherClosedError extends Error {
  override readonly name = "PublisherClosedError";
  constructor() {
    super("the event log is closed");
  }
}

/**
 * A publish still waiting for its acknowledgement when its log was closed (`close()` waited
 * `closeTimeoutMs` for it): it went out, so it may or may not be stored.
 */
export class PublishAbandonedError extends Error {
  override readonly name = "PublishAbandonedError";
  constructor() {
    super("the event log was closed before the publish was acknowledged; it may or may not be stored");
  }
}

const MSG_ID = "Nats-Msg-Id";
const EXPECTED_LAST_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence";
const decoder = new TextDecoder();

/**
 * JetStream publishes on one reply subscription (`<inbox>.<n>`), answered through a map, with one timer for
 * all of them. `JetStreamClient.publish` does the same work through nats.js's request path, which on every
 * acknowledged publish also builds (and throws away) a `RequestError` with its stack trace, arms and clears a
 * timer and copies the options twice: measured at 1,000 entities that was about a fifth of the client's CPU
 * per persist (see ADR 0091). The errors it rejects with are the ones nats.js would raise, so
 * `classifyPublishFailure` reads them alike: `JetStreamApiError` for a refusal, `TimeoutError` when
 * unanswered, `NoRespondersError` when no stream listens, `ClosedConnectionError` from `publish` when closed.
 *
 * When nats.js reconnects, every publish still waiting fails at once with {@link PublishLostError}: its
 * acknowledgement cannot come any more (the request died with the old connection, or nats.js dropped it
 * unsent when it dialled again), and waiting out its timeout kept a persist, and every entity behind it,
 * unacknowledged for up to `publishTimeoutMs` after the server was back (ADR 0138).
 */
export class PublishMux implements JetStreamPublisher {
  readonly #nc: NatsConnection;
  #prefix: string | undefined;
  #sub: Subscription | undefined;
  #next = 0;
  readonly #pending = new Map<string, Pending>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When `#timer` fires. */
  #timerAt = Number.POSITIVE_INFINITY;
  #idle: (() => void)[] = [];
  readonly #status: AsyncIterable<Status> & { stop?(): void };
  /** Set by {@link close}: every later publish is refused. */
  #closed = false;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    this.#status = nc.status();
    void this.#watchReconnects();
  }

  async #watchReconnects(): Promise<void> {
    try {
      for await (const status of this.#status) {
        // Everything waiting was published before this reconnect was reported. One published between the
        // reconnect and this report did go out on the new connection: failing it only costs a retry, which
        // the stream acknowledges as a duplicate of it.
        if (status.type === "reconnect") this.#failAll(new PublishLostError());
      }
    } catch {
      // The iterator ends with the connection; nothing to do.
    }
  }

  publish(
    subject: string,
    body: Uint8Array,
    options: Parameters<JetStreamPublisher["publish"]>[2],
  ): Promise<Pick<PubAck, "seq" | "duplicate">> {
    // As nats.js refuses a request: a publish would still go out while draining, but not its answer.
    if (this.#nc.isClosed()) return Promise.reject(new ClosedConnectionError());
    if (this.#closed) return Promise.reject(new PublisherClosedError());
    if (this.#nc.isDraining()) return Promise.reject(new DrainingConnectionError());
    const prefix = this.#prefix ?? this.#subscribe();
    const token = (this.#next++).toString(36);
    const hdrs = options.headers;
    hdrs.set(MSG_ID, options.msgID);
    hdrs.set(EXPECTED_LAST_SUBJECT_SEQ, String(options.expect.lastSubjectSequence));
    return new Promise((resolve, reject) => {
      try {
        // Throws (nothing sent) when the connection is closed or draining or the subject is invalid.
        this.#nc.publish(subject, body, { reply: `${prefix}.${token}`, headers: hdrs });
      } catch (err) {
        reject(err as Error);
        return;
      }
      const deadline = Date.now() + options.timeout;
      this.#pending.set(token, { subject, deadline, resolve, reject });
      if (deadline < this.#timerAt) this.#arm(deadline);
    });
  }

  /** Resolves once no publish waits for its acknowledgement (each ends by its timeout at the latest). */
  settled(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Rejects what is still waiting with {@link PublishAbandonedError} and stops listening (the log is
   * closing); later publishes are refused with {@link PublisherClosedError}.
   */
  close(): void {
    this.#closed = true;
    this.#status.stop?.();
    this.#dropSubscription(new PublishAbandonedError());
  }

  /** Rejects what is still waiting with `err` and forgets the reply subscription. */
  #dropSubscription(
    err: Error = new RequestError("the connection closed before the publish was acknowledged"),
  ): void {
    this.#failAll(err);
    this.#sub?.unsubscribe();
    this.#sub = undefined;
    this.#prefix = undefined;
  }

  #subscribe(): string {
    // nats.js's own inbox prefix when the connection has one (accounts may restrict replies to it).
    const inboxPrefix = (this.#nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix;
    const prefix = createInbox(inboxPrefix);
    const sub = this.#nc.subscribe(`${prefix}.*`, { callback: (err, msg) => this.#answer(err, msg) });
    // Ends when the connection closes (not on reconnect, where nats.js re-subscribes). A publish after that
    // subscribes again: the multiplexer is closed only by its log.
    void sub.closed.then(() => {
      if (this.#sub === sub) this.#dropSubscription();
    });
    this.#sub = sub;
    this.#prefix = prefix;
    return prefix;
  }

  #answer(err: Error | null, msg: Msg): void {
    if (err !== null) {
      this.#failAll(err);
      return;
    }
    const token = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
    const pending = this.#pending.get(token);
    if (pending === undefined) return; // answered after its timeout
    this.#settle(token);
    if (msg.data.length === 0 && msg.headers?.code === 503) {
      pending.reject(new NoRespondersError(pending.subject));
      return;
    }
    let ack: {
      error?: ConstructorParameters<typeof JetStreamApiError>[0];
      seq?: number;
      duplicate?: boolean;
    };
    try {
      ack = JSON.parse(decoder.decode(msg.data));
    } catch (cause) {
      pending.reject(new RequestError("unreadable JetStream acknowledgement", { cause }));
      return;
    }
    if (ack.error !== undefined) pending.reject(new JetStreamApiError(ack.error));
    else if (typeof ack.seq !== "number")
      pending.reject(new RequestError("invalid JetStream acknowledgement"));
    else pending.resolve({ seq: ack.seq, duplicate: ack.duplicate === true });
  }

  /** One timer for every pending publish, set for the earliest deadline. */
  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, at - Date.now()));
  }

  /** Times out what is past its deadline, then waits for the next deadline. */
  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [token, pending] of this.#pending) {
      if (pending.deadline <= now) {
        this.#settle(token);
        pending.reject(new TimeoutError());
      } else {
        next = Math.min(next, pending.deadline);
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
  }

  #settle(token: string): void {
    this.#pending.delete(token);
    if (this.#pending.size > 0) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  #failAll(err: Error): void {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    for (const p of pending) p.reject(err);
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}
