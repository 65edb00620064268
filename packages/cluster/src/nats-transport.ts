import { ConfigurationError } from "@eventsourced/core";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { settledWithin } from "./settled-within.js";
import type { ClusterTransport, ServedRequest, TransportReply, TransportSubscription } from "./transport.js";

/** True for the error of a request nobody subscribed to (nats.js 3 wraps it in a `RequestError`). */
function isNoResponders(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    if (e.name === "NoRespondersError") return true;
    const check = (e as { isNoResponders?: () => boolean }).isNoResponders;
    if (typeof check === "function" && check.call(e)) return true;
  }
  return false;
}

function isTimeout(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 3; e = e.cause, depth++) {
    if (e.name === "TimeoutError") return true;
  }
  return false;
}

/**
 * Stops `sub` by draining it (messages already received are still delivered), for at most `drainTimeoutMs`:
 * the drain waits for the server's answer to a flush, which behind a partition comes only once nats.js finds
 * the connection stale, minutes later. Then (or when the drain fails) it is unsubscribed locally.
 */
function stopping(sub: Subscription, drainTimeoutMs: number): TransportSubscription {
  return {
    stop: async () => {
      if (sub.isClosed()) return;
      await settledWithin(sub.drain(), drainTimeoutMs);
      if (!sub.isClosed()) sub.unsubscribe();
    },
  };
}

/** Options of a {@link NatsTransport}. */
export interface NatsTransportOptions {
  /**
   * How long stopping a subscription (a shard handed over, a node stopping) waits for its drain before
   * unsubscribing without it; default 5,000 ms. A server that cannot be reached then cannot keep a stopping
   * node from exiting.
   */
  readonly drainTimeoutMs?: number | undefined;
}

/**
 * {@link ClusterTransport} on NATS core request/reply (no JetStream): requests use the connection's
 * shared reply subscription and resolve with the first reply; servers subscribe without a queue group, so
 * every subscriber of a shard gets each request (ADR 0129). The connection stays the caller's.
 * @example
 * const transport = new NatsTransport(await connect({ servers: "nats://127.0.0.1:4222" }));
 */
export class NatsTransport implements ClusterTransport {
  readonly #nc: NatsConnection;
  readonly #drainTimeoutMs: number;

  constructor(nc: NatsConnection, options: NatsTransportOptions = {}) {
    const drainTimeoutMs = options.drainTimeoutMs ?? 5_000;
    if (!(Number.isInteger(drainTimeoutMs) && drainTimeoutMs >= 1 && drainTimeoutMs <= 2_147_483_647)) {
      throw new ConfigurationError(
        `invalid drainTimeoutMs ${drainTimeoutMs}: a positive integer number of milliseconds`,
        "drainTimeoutMs",
        "NatsTransportOptions",
      );
    }
    this.#nc = nc;
    this.#drainTimeoutMs = drainTimeoutMs;
  }

  async request(subject: string, payload: Uint8Array, timeoutMs: number): Promise<TransportReply> {
    try {
      const msg = await this.#nc.request(subject, payload, { timeout: Math.max(1, Math.ceil(timeoutMs)) });
      return { kind: "reply", payload: msg.data };
    } catch (err) {
      if (isNoResponders(err)) return { kind: "no-responders" };
      if (isTimeout(err)) return { kind: "timeout" };
      throw err;
    }
  }

  serve(subject: string, handler: (request: ServedRequest) => void): TransportSubscription {
    const sub = this.#nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err !== null) return;
        handler({ payload: msg.data, respond: (reply) => void msg.respond(reply) });
      },
    });
    return stopping(sub, this.#drainTimeoutMs);
  }

  publish(subject: string, payload: Uint8Array): void {
    if (!this.#nc.isClosed()) this.#nc.publish(subject, payload);
  }

  subscribe(subject: string, handler: (payload: Uint8Array) => void): TransportSubscription {
    const sub = this.#nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err === null) handler(msg.data);
      },
    });
    return stopping(sub, this.#drainTimeoutMs);
  }
}
