import { EventSourcedError } from "@eventsourced/core";
import type { Msg, NatsConnection, Payload, RequestOptions, Status } from "@nats-io/transport-node";

/**
 * A NATS request whose answer can no longer come: nats.js reported the connection it went out on (or was
 * queued for) lost. A read is sent again on the new connection by the connection `failLostRequests`
 * returns, so this reaches callers of writes, and of reads whose time ran out before nats.js reconnected.
 * A write may have been applied (it went out before the connection died) or not (nats.js discards what it
 * had not sent when it dials again): its outcome is unknown. `cause` says what nats.js reported.
 */
export class RequestLostError extends EventSourcedError {
  static override readonly code: string = "NATS_REQUEST_LOST";
  declare readonly code: "NATS_REQUEST_LOST";
  /** The subject the request was sent to. */
  readonly subject: string;
  constructor(subject: string, options?: { cause?: unknown }) {
    super(
      "NATS_REQUEST_LOST",
      `the connection was lost before the request to ${subject} was answered`,
      options,
    );
    this.subject = subject;
  }
}

declare module "@eventsourced/core" {
  interface ErrorByCode {
    NATS_REQUEST_LOST: RequestLostError;
  }
}

/**
 * JetStream API requests without side effects, sent again when lost: direct and stream message gets, stream
 * and consumer info, names and lists, account info. Anchored on the API prefix (`$JS.API.` or, for a domain,
 * `$JS.<domain>.API.`), so that no stream or KV subject can look like one.
 */
const READ =
  /^\$JS\.(?:[^.]+\.)?API\.(?:DIRECT\.GET|STREAM\.MSG\.GET|(?:STREAM|CONSUMER)\.(?:INFO|NAMES|LIST)|INFO)(?:\.|$)/;

/** Whether a request to `subject` only reads (so sending it again is harmless). */
export function isReadRequest(subject: string): boolean {
  return READ.test(subject);
}

interface Pending {
  readonly subject: string;
  reject(err: Error): void;
}

/**
 * Watches one connection's status and fails the requests nats.js can no longer answer. nats.js keeps a
 * request waiting for its timeout when the connection drops under it although the answer cannot come: the
 * request died with the socket, or nats.js dropped it unsent when it dialled again. On `disconnect` every
 * request waiting fails with {@link RequestLostError}; on `reconnect` so does every request made while
 * disconnected (queued, then discarded by the dial). A read is then sent again on the new connection within
 * what is left of its timeout (ADR 0143).
 */
class LostRequests {
  readonly #nc: NatsConnection;
  readonly #pending = new Set<Pending>();
  #connected = true;
  /** Resolved (true) on the next `reconnect`, (false) when the connection closes. */
  #reconnected: { promise: Promise<boolean>; resolve(connected: boolean): void } | undefined;

  constructor(nc: NatsConnection) {
    this.#nc = nc;
    void this.#watch(nc.status());
    void nc.closed().then(() => this.#wake(false));
  }

  async request(subject: string, payload?: Payload, options?: RequestOptions): Promise<Msg> {
    const deadline = Date.now() + (options?.timeout || 1_000);
    for (;;) {
      const timeout = deadline - Date.now();
      try {
        return await this.#attempt(subject, payload, { ...options, timeout: Math.max(1, timeout) });
      } catch (err) {
        if (!(err instanceof RequestLostError) || !isReadRequest(subject)) throw err;
        if (!(await this.#untilConnected(deadline))) throw err;
      }
    }
  }

  #attempt(subject: string, payload: Payload | undefined, options: RequestOptions): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { subject, reject };
      this.#pending.add(pending);
      // Once failed here, nats.js's own answer (its timeout, later) settles nothing.
      this.#nc.request(subject, payload, options).then(
        (msg) => {
          this.#pending.delete(pending);
          resolve(msg);
        },
        (err: unknown) => {
          this.#pending.delete(pending);
          reject(err);
        },
      );
    });
  }

  /** True once connected (at once if it is), false when `deadline` passes first or the connection closes. */
  async #untilConnected(deadline: number): Promise<boolean> {
    if (this.#connected) return Date.now() < deadline;
    this.#reconnected ??= withResolvers();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
    });
    try {
      return await Promise.race([this.#reconnected.promise, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  async #watch(statuses: AsyncIterable<Status>): Promise<void> {
    try {
      for await (const status of statuses) {
        if (status.type !== "disconnect" && status.type !== "reconnect") continue;
        this.#failAll(new Error(`nats.js reported "${status.type}" (server ${status.server})`));
        if (status.type === "disconnect") {
          this.#connected = false;
        } else {
          this.#connected = true;
          this.#wake(true);
        }
      }
    } catch {
      // The iterator ends with the connection; nothing to do.
    }
  }

  #wake(connected: boolean): void {
    const waiting = this.#reconnected;
    this.#reconnected = undefined;
    waiting?.resolve(connected);
  }

  #failAll(cause: Error): void {
    const pending = [...this.#pending];
    this.#pending.clear();
    for (const p of pending) p.reject(new RequestLostError(p.subject, { cause }));
  }
}

function withResolvers(): { promise: Promise<boolean>; resolve(connected: boolean): void } {
  let resolve!: (connected: boolean) => void;
  const promise = new Promise<boolean>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const wrapped = new WeakMap<NatsConnection, NatsConnection>();
const wrappers = new WeakSet<NatsConnection>();

/**
 * `nc` with a `request` that fails requests the connection can no longer answer with
 * {@link RequestLostError} as soon as nats.js reports the connection lost, and sends lost reads again once it
 * has reconnected (see {@link isReadRequest}); everything else is `nc`'s own. Build JetStream, KV and
 * manager clients on it. One watcher per connection, however often this is called.
 */
export function failLostRequests(nc: NatsConnection): NatsConnection {
  if (wrappers.has(nc)) return nc;
  let connection = wrapped.get(nc);
  if (connection === undefined) {
    const requests = new LostRequests(nc);
    // Methods are bound to the connection itself (nats.js keeps state on it), once each.
    const methods = new Map<PropertyKey, unknown>([["request", requests.request.bind(requests)]]);
    connection = new Proxy(nc, {
      get(target, property) {
        const method = methods.get(property);
        if (method !== undefined) return method;
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        const bound = value.bind(target);
        methods.set(property, bound);
        return bound;
      },
    });
    wrapped.set(nc, connection);
    wrappers.add(connection);
  }
  return connection;
}
