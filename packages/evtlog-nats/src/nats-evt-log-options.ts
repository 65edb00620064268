import { ConfigurationError, type Logger } from "@eventsourced/core";
import type { NatsConnection } from "@nats-io/transport-node";
import type { NatsStreamOptions } from "./stream-provisioning.js";

/** Options of {@link NatsEvtLog.connect}. */
export interface NatsEvtLogOptions {
  /** Server URL(s) when no `connection` is given; default `nats://127.0.0.1:4222`. */
  readonly servers?: string | readonly string[] | undefined;
  /** An existing connection to use. It stays open when the log closes: whoever opened it closes it. */
  readonly connection?: NatsConnection | undefined;
  /** User name and password (when no `connection` is given). */
  readonly user?: string | undefined;
  readonly pass?: string | undefined;
  /** Token authentication (when no `connection` is given). */
  readonly token?: string | undefined;
  /** Path of a `.creds` file (JWT + nkey seed) (when no `connection` is given). */
  readonly credsFile?: string | undefined;
  /** The stream that holds the events; created when missing, verified otherwise. */
  readonly stream?: NatsStreamOptions | undefined;
  /** Messages per pull request when reading; default 1,000 (replay throughput grows with it). */
  readonly fetchBatch?: number | undefined;
  /**
   * How long a publish waits for the server's acknowledgement, per attempt; default 5,000 ms. An attempt
   * whose connection is lost does not wait this out: it is retried as soon as the client has reconnected.
   */
  readonly publishTimeoutMs?: number | undefined;
  /**
   * Attempts of one persist while the server does not answer (timeouts, JetStream not ready after a restart);
   * default 3. Every attempt carries the same `Nats-Msg-Id`, so an attempt that did reach the stream is never
   * stored twice: the retry is acknowledged as a duplicate of it.
   */
  readonly publishAttempts?: number | undefined;
  /**
   * How long `close()` waits for publishes awaiting their acknowledgement and, on a connection the log
   * opened, for the drain; default 5,000 ms. Then the waiting persists fail with `PersistError`
   * (`outcomeUnknown`) and the connection is closed at once: a server that is away (or a partition) cannot
   * keep a stopping process from exiting.
   */
  readonly closeTimeoutMs?: number | undefined;
  /** Entities whose last message is remembered (saves a lookup before each persist); default 100,000. */
  readonly cacheSize?: number | undefined;
  /** Where warnings go (reads resumed after a server restart); default `consoleLogger`. */
  readonly logger?: Logger | undefined;
}

/**
 * Checks the numeric options of {@link NatsEvtLog.connect} before anything connects; throws
 * `ConfigurationError` naming the first bad key.
 */
export function validateNatsEvtLogOptions(options: NatsEvtLogOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError(
      `the options must be an object, got ${String(options)}`,
      "options",
      "options",
    );
  }
  validatePositiveInteger(options.fetchBatch, "fetchBatch");
  validatePositiveInteger(options.publishTimeoutMs, "publishTimeoutMs");
  validatePositiveInteger(options.publishAttempts, "publishAttempts");
  validatePositiveInteger(options.closeTimeoutMs, "closeTimeoutMs");
  if (options.cacheSize !== undefined && !(Number.isInteger(options.cacheSize) && options.cacheSize >= 0)) {
    throw new ConfigurationError(
      `invalid cacheSize ${options.cacheSize}: an integer >= 0`,
      "cacheSize",
      "options",
    );
  }
}

/** The longest delay a Node.js timer takes (2^31 - 1 ms); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;

function validatePositiveInteger(value: number | undefined, key: string): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
    throw new ConfigurationError(`invalid ${key} ${value}: a positive integer`, key, "options");
  }
  if (value !== undefined && key.endsWith("Ms") && value > MAX_TIMER_MS) {
    throw new ConfigurationError(
      `invalid ${key} ${value}: at most ${MAX_TIMER_MS} (Node.js timers fire at once beyond it)`,
      key,
      "options",
    );
  }
}
