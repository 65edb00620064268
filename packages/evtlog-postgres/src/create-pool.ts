import type { ConnectionOptions } from "node:tls";
import type { PgPoolLike } from "./pg-pool-like.js";
import { SERVER_KEEPALIVE_SQL } from "./server-keepalive.js";

/** A pool this package created (and therefore ends). */
export interface OwnedPool extends PgPoolLike {
  /**
   * Ends the pool: idle connections close at once, checked-out ones when they are released, and connection
   * attempts still under way are abandoned (their waiters get an error) instead of being waited out: behind
   * a network partition one would otherwise hold `end()` for the whole connect timeout. Statements and
   * check-outs still queued for a connection fail at once.
   */
  end(): Promise<void>;
  /**
   * Destroys the socket of every connection of the pool, checked out or not, and of every connection attempt:
   * statements in flight fail as on a lost connection (their outcome unknown). For a `close()` that has
   * waited long enough on a server that does not answer.
   */
  destroyConnections(): void;
}

/** The part of a `pg.Client` that `createPool` reaches into: its socket. */
interface PgClientInternals {
  readonly connection?: { readonly stream?: { destroy(err?: Error): void } } | undefined;
  connect(callback?: (err: Error | undefined) => void): Promise<void> | undefined;
  query(text: string): Promise<unknown>;
  once(event: "end", listener: () => void): unknown;
  on(event: "error", listener: (err: Error) => void): unknown;
  removeListener(event: "error", listener: (err: Error) => void): unknown;
}

/** How long a new connection may take before pg gives up on it, unless `connectTimeoutMs` says otherwise. */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Idle time after which TCP keepalive probes a connection: a connection that sits idle behind a network
 * partition (an idle pooled connection, the committer's held one, the LISTEN one) is found dead by the OS
 * instead of on its next statement. A statement waiting for an answer is bounded by `queryTimeoutMs`
 * instead (keepalive does not probe a connection with data in flight). ADR 0140.
 */
const KEEPALIVE_IDLE_MS = 10_000;

/**
 * Creates a `pg.Pool`. `pg` is imported dynamically so that it stays a peer dependency: users who pass
 * their own pool never load it through us.
 *
 * Its clients are a subclass of `pg.Client` that the pool keeps track of (the `Client` option of
 * `pg.Pool`), so that `end()` can abandon connection attempts and `destroyConnections()` can cut every
 * connection. `pg.Pool#end` itself waits for each attempt to connect or time out (ADR 0138). Its connections
 * use TCP keepalive (ADR 0140). With `serverKeepalive`, each new connection also sets the server's side of
 * it (`SERVER_KEEPALIVE_SQL`, ADR 0145) before the pool hands it out: one more round trip per connection,
 * within the connect timeout; if it fails, the connection fails as a connect would.
 */
export async function createPool(options: {
  connectionString: string | undefined;
  max: number;
  ssl: boolean | ConnectionOptions | undefined;
  applicationName: string;
  /** Set server-side keepalive and dead-client checks on each new connection (ADR 0145). */
  serverKeepalive: boolean;
  /**
   * How long a new connection may take, and a check-out may wait behind a full pool (pg-pool applies
   * `connectionTimeoutMillis` to both), before pg gives up. Default 10,000 ms.
   */
  connectTimeoutMs?: number | undefined;
  onIdleError: (err: Error) => void;
}): Promise<OwnedPool> {
  const pg = await import("pg");
  const Pool = pg.default?.Pool ?? pg.Pool;
  const BaseClient = (pg.default?.Client ?? pg.Client) as unknown as new (
    config: unknown,
  ) => PgClientInternals;
  /** Every client of the pool whose socket has not closed yet. */
  const open = new Set<PgClientInternals>();
  /** The clients among them that are still connecting. */
  const connecting = new Set<PgClientInternals>();
  const destroy = (client: PgClientInternals, reason: string) =>
    client.connection?.stream?.destroy(new Error(reason));
  class TrackedClient extends BaseClient {
    constructor(config: unknown) {
      super(config);
      open.add(this);
      this.once("end", () => {
        open.delete(this);
        connecting.delete(this);
      });
    }

    override connect(callback?: (err: Error | undefined) => void): Promise<void> | undefined {
      connecting.add(this);
      const connected = (super.connect() as Promise<void>)
        .then(() => (options.serverKeepalive ? this.#setServerKeepalive() : undefined))
        .finally(() => connecting.delete(this));
      if (callback === undefined) return connected;
      connected.then(
        () => callback(undefined),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
      return undefined;
    }

    /** Sends the settings; on failure destroys the connection (the pool drops a failed connect without ending it). */
    async #setServerKeepalive(): Promise<void> {
      // The pool listens for errors only once it has the client: until then, a connection dying would crash.
      // On failure it stays: the destroyed socket may still report errors.
      const ignore = () => {};
      this.on("error", ignore);
      try {
        await this.query(SERVER_KEEPALIVE_SQL);
      } catch (err) {
        destroy(this, "setting the server-side keepalive failed");
        throw err;
      }
      this.removeListener("error", ignore);
    }
  }
  const pool = new Pool({
    connectionString: options.connectionString,
    max: options.max,
    ssl: options.ssl,
    application_name: options.applicationName,
    connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    Client: TrackedClient as unknown as typeof pg.Client,
  });
  // Without a listener, an idle client's connection error would crash the process.
  pool.on("error", options.onIdleError);
  const end = pool.end.bind(pool);
  return Object.assign(pool, {
    end: async (): Promise<void> => {
      const ended = end();
      // Nobody waits for these any more (the pool refuses new work once ending): pg-pool removes each one
      // as its connect fails, and resolves `end()` once no client is left.
      for (const client of [...connecting]) destroy(client, "the pool was ended while connecting");
      // An ending pg.Pool serves no waiter and fails none: each would wait out the connect timeout (and a
      // process with nothing else to do would exit with it unsettled, that timer being unref'd).
      const waiting = (pool as unknown as { _pendingQueue?: { callback(err: Error): void }[] })._pendingQueue;
      if (Array.isArray(waiting)) {
        for (const item of waiting.splice(0)) {
          item.callback(new Error("the pool was ended before a connection was free for this statement"));
        }
      }
      await ended;
    },
    destroyConnections: (): void => {
      for (const client of [...open]) destroy(client, "the connection was cut: the pool is closing");
    },
  }) as unknown as OwnedPool;
}
