import type { Logger } from "@eventsourced/core";
import type { PgPoolLike } from "./pg-pool-like.js";

/** Longest payload sent; PostgreSQL refuses 8,000 bytes and more. Beyond it, `*` (any type) is sent. */
const MAX_PAYLOAD = 7000;

/**
 * Least time between two notifications of one log from one process. Writers commit up to thousands of
 * batches a second and each NOTIFY is a transaction of its own; a reader in another process needs to be
 * woken, not woken per batch. The first notification after a quiet spell goes at once.
 */
const MIN_INTERVAL_MS = 25;

/**
 * Sends the log's NOTIFY (the types written, space-separated) after batches commit, outside their
 * transactions: a NOTIFY inside the writing transaction takes PostgreSQL's database-wide notify lock from
 * before the commit until it ends, WAL flush included, and so serialises the commits of every writer in the
 * database (ADR 0110). Here it is one autocommit statement on a pool connection with `synchronous_commit`
 * off (a notification needs no durability), so no commit waits on it: at most one is in flight, at most one
 * every {@link MIN_INTERVAL_MS}, and the types of batches committed meanwhile go together in the next one.
 *
 * A notification only wakes live readers in other processes sooner; they poll anyway. So a failed send is
 * logged and dropped, and a process that dies between a commit and its notification leaves those readers
 * to their poll.
 */
export class CommitNotifier {
  readonly #pool: PgPoolLike;
  readonly #channel: string;
  readonly #logger: Logger;
  readonly #pending = new Set<string>();
  #sending: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastSentAt = Number.NEGATIVE_INFINITY;

  constructor(pool: PgPoolLike, channel: string, logger: Logger) {
    this.#pool = pool;
    this.#channel = channel;
    this.#logger = logger;
  }

  /** Notifies `types` soon: now if nothing was sent lately and nothing is in flight, else with the next send. */
  notify(types: ReadonlySet<string>): void {
    for (const type of types) this.#pending.add(type);
    this.#schedule();
  }

  /** Sends what is pending at once and resolves once nothing is in flight. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#sending !== undefined || this.#pending.size > 0) {
      this.#sending ??= this.#send();
      await this.#sending;
    }
  }

  #schedule(): void {
    if (this.#sending !== undefined || this.#timer !== undefined || this.#pending.size === 0) return;
    const wait = this.#lastSentAt + MIN_INTERVAL_MS - performance.now();
    if (wait <= 0) {
      this.#sending = this.#send();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#schedule();
    }, wait);
    this.#timer.unref?.();
  }

  /** Sends what is pending in one NOTIFY, then schedules the next if more came meanwhile. Never rejects. */
  async #send(): Promise<void> {
    const types = [...this.#pending].join(" ");
    this.#pending.clear();
    this.#lastSentAt = performance.now();
    try {
      await this.#pool.query("SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)", [
        this.#channel,
        types.length < MAX_PAYLOAD ? types : "*",
      ]);
    } catch (err) {
      this.#logger.warn("event log NOTIFY failed; live readers in other processes poll", {
        error: err instanceof Error ? err.message : String(err),
      });
    }
    this.#sending = undefined;
    this.#schedule();
  }
}
