import type { Logger } from "@eventsourced/core";
import type { AppendSignal } from "./append-signal.js";
import { checkOut } from "./check-out.js";
import { notifiedTypes } from "./commit-notifier.js";
import { listenerName } from "./listener-presence.js";
import type { PgClientLike, PgNotificationLike, PgPoolLike } from "./pg-pool-like.js";

/**
 * Holds one connection that LISTENs on the log's channel and forwards notifications to the
 * {@link AppendSignal}. Started by the first live reader. If the connection is lost, readers keep
 * polling and the next reader wait reconnects; after a reconnect every reader is woken, since
 * notifications sent meanwhile were lost.
 */
export class NotificationListener {
  readonly #pool: PgPoolLike;
  /** Bounds the statements that set the connection up (`queryTimeoutMs`). */
  readonly #queryTimeoutMs: number;
  readonly #channel: string;
  readonly #ownTag: string;
  readonly #signal: AppendSignal;
  readonly #logger: Logger;
  #client: PgClientLike | undefined;
  #connecting: Promise<void> | undefined;
  #closed = false;
  #lostOnce = false;

  /** Notifications tagged `ownTag` come from this log's own committer, which woke its readers already. */
  constructor(
    pool: PgPoolLike,
    channel: string,
    ownTag: string,
    signal: AppendSignal,
    logger: Logger,
    queryTimeoutMs: number,
  ) {
    this.#pool = pool;
    this.#queryTimeoutMs = queryTimeoutMs;
    this.#channel = channel;
    this.#ownTag = ownTag;
    this.#signal = signal;
    this.#logger = logger;
  }

  #onNotification = (message: PgNotificationLike) => {
    if (message.channel !== this.#channel) return;
    const types = notifiedTypes(message.payload ?? "", this.#ownTag);
    if (types !== undefined) this.#signal.signal(types);
  };

  #onError = (err: Error) => {
    this.#logger.warn("event log LISTEN connection lost; live readers poll until it is back", {
      error: err.message,
    });
    this.#drop(err);
  };

  /** Makes sure the LISTEN connection is up; failures are logged, never thrown (polling covers). */
  ensure(): Promise<void> {
    if (this.#closed || this.#client !== undefined) return Promise.resolve();
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    let client: PgClientLike | undefined;
    try {
      client = await checkOut(this.#pool, this.#onError);
      client.on("notification", this.#onNotification);
      // Named so that writers in other processes see someone listens (the connection is never reused).
      const query_timeout = this.#queryTimeoutMs;
      await client.query({
        text: "SELECT set_config('application_name', $1, false)",
        values: [listenerName(this.#channel, this.#ownTag)],
        query_timeout,
      });
      await client.query({ text: `LISTEN "${this.#channel}"`, values: [], query_timeout });
      if (this.#closed) {
        this.#release(client);
        return;
      }
      this.#client = client;
      if (this.#lostOnce) this.#signal.signalAll();
    } catch (err) {
      if (client !== undefined) this.#release(client, err instanceof Error ? err : new Error(String(err)));
      this.#logger.warn("cannot LISTEN for event log notifications; live readers poll", {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  #release(client: PgClientLike, err?: Error): void {
    client.removeListener("notification", this.#onNotification);
    client.removeListener("error", this.#onError);
    if (err !== undefined) client.on("error", () => {});
    client.release(err ?? true);
  }

  #drop(err: Error): void {
    const client = this.#client;
    this.#client = undefined;
    this.#lostOnce = true;
    if (client !== undefined) this.#release(client, err);
    this.#signal.signalAll();
  }

  /** Stops listening and closes the connection (it is not returned to the pool: it still LISTENs). */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#connecting;
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) this.#release(client);
  }
}
