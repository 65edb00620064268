import type { Logger } from "@eventsourced/core";
import type { PgPoolLike } from "./pg-pool-like.js";

/** How stale a "someone listens" answer may be: a notification that goes unneeded meanwhile is cheap. */
const PRESENT_REFRESH_MS = 2000;
/**
 * How stale a "nobody listens" answer may be: a reader that starts listening meanwhile is not notified for
 * at most this long and meets its poll instead (`pollIntervalMs`, 100 ms by default).
 */
const ABSENT_REFRESH_MS = 200;

/**
 * The `application_name` of a log instance's LISTEN connection, which marks it as a listener of `channel`
 * for other instances' {@link ListenerPresence}. At most 62 characters (the server keeps 63).
 */
export function listenerName(channel: string, tag: string): string {
  return `eventsourced-listen ${channel} ${tag}`;
}

/**
 * Whether a log instance other than this one LISTENs on the log's channel, read from `pg_stat_activity`
 * (`application_name`, visible to every role) and refreshed in the background: a notification nobody
 * else listens to costs a server transaction and a round trip per batch for nothing (this instance's own
 * readers are woken at commit). Unknown (at first, or when the check fails) counts as present.
 */
export class ListenerPresence {
  readonly #pool: PgPoolLike;
  readonly #prefix: string;
  readonly #own: string;
  readonly #logger: Logger;
  #present = true;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #checking: Promise<void> | undefined;
  #warned = false;

  constructor(pool: PgPoolLike, channel: string, ownTag: string, logger: Logger) {
    this.#pool = pool;
    this.#prefix = listenerName(channel, "");
    this.#own = listenerName(channel, ownTag);
    this.#logger = logger;
  }

  /** The latest answer; starts a refresh when it is stale. */
  get othersMayListen(): boolean {
    const age = performance.now() - this.#checkedAt;
    if (age > (this.#present ? PRESENT_REFRESH_MS : ABSENT_REFRESH_MS)) void this.refresh();
    return this.#present;
  }

  /** Checks now (or joins the check in flight); never rejects. */
  refresh(): Promise<void> {
    this.#checking ??= this.#check().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #check(): Promise<void> {
    try {
      const res = await this.#pool.query(
        `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname = current_database()
           AND starts_with(application_name, $1) AND application_name <> $2) AS present`,
        [this.#prefix, this.#own],
      );
      this.#present = (res.rows[0] as { present: boolean }).present === true;
    } catch (err) {
      this.#present = true;
      if (!this.#warned) {
        this.#warned = true;
        this.#logger.warn(
          "cannot tell whether other processes listen for event log notifications; notifying",
          {
            error: err instanceof Error ? err.message : String(err),
          },
        );
      }
    }
    this.#checkedAt = performance.now();
  }
}
