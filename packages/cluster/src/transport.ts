/** What came back from one request: a reply, nobody listening on the subject, or no reply in time. */
export type TransportReply =
  | { readonly kind: "reply"; readonly payload: Uint8Array }
  | { readonly kind: "no-responders" }
  | { readonly kind: "timeout" };

/** A request delivered to a server subscription. */
export interface ServedRequest {
  readonly payload: Uint8Array;
  /**
   * Sends the reply (at most once; a reply to a requester that gave up, or that took another
   * subscriber's reply first, is dropped by the transport).
   */
  respond(payload: Uint8Array): void;
}

/** A subscription of a {@link ClusterTransport}. */
export interface TransportSubscription {
  /** Stops delivery; requests already delivered are still handled. Resolves once unsubscribed. */
  stop(): Promise<void>;
}

/**
 * How cluster nodes talk: request/reply to every subscriber of a subject, first reply wins, and
 * fire-and-forget hints. `NatsTransport` implements it on NATS core (no JetStream needed), so a deployment
 * whose log, leases and membership live in PostgreSQL routes with a plain NATS server; another
 * implementation (HTTP, gRPC) only needs these four methods with the same semantics.
 */
export interface ClusterTransport {
  /**
   * Sends `payload` to every subscriber of `subject` and waits up to `timeoutMs` for the first reply; later
   * replies are dropped. Resolves `"no-responders"` when nobody subscribes to the subject (the request was
   * not delivered), `"timeout"` when no reply came (it may have been handled). Rejects only when the
   * transport itself is unusable (closed).
   */
  request(subject: string, payload: Uint8Array, timeoutMs: number): Promise<TransportReply>;
  /**
   * Delivers every request on `subject` to this subscription, as to every other one of the subject (no
   * queue group): while a shard changes hands its old owner, even a frozen one, and its new owner may both
   * be subscribed, and the new owner's reply must reach the sender whatever the old one does (ADR 0129).
   */
  serve(subject: string, handler: (request: ServedRequest) => void): TransportSubscription;
  /** Best-effort broadcast to every subscriber of `subject`. */
  publish(subject: string, payload: Uint8Array): void;
  /** Receives every broadcast on `subject`. */
  subscribe(subject: string, handler: (payload: Uint8Array) => void): TransportSubscription;
}
