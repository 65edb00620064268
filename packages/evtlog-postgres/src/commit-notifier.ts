import type { Logger } from "@eventsourced/core";
import type { ListenerPresence } from "./listener-presence.js";
import type { PgPoolLike } from "./pg-pool-like.js";

/** Longest payload sent; PostgreSQL refuses 8,000 bytes and more. Beyond it, `*` (any type) is sent. */
const MAX_PAYLOAD = 7000;

/**
 * The payload of a notification: the sender's tag, then the types written (or `*`), space-separated.
 * Type names start with a letter, so a leading `@` marks the tag; payloads of earlier versions have none.
 */
export function notificationPayload(senderTag: string, types: string): string {
  return `@${senderTag} ${types.length < MAX_PAYLOAD ? types : "*"}`;
}

/**
 * The types a notification's payload names (`*`: any), or undefined when `ownTag` sent it: the log that
 * sent it woke its own readers at its commit already, so its own notification would only make them read
 * again for nothing.
 */
export function notifiedTypes(payload: string, ownTag: string): string[] | undefined {
  const parts = payload === "" ? [] : payload.split(" ");
  if (parts[0]?.startsWith("@")) {
    if (parts[0] === `@${ownTag}`) return undefined;
    parts.shift();
  }
  return parts.length === 0 ? ["*"] : parts;
}

/**
 * Sends the log's NOTIFY (the types written, space-separated) after batches commit, outside their
 * transactions: a NOTIFY inside the writing transaction takes PostgreSQL's database-wide notify lock from
 * before the commit until it ends, WAL flush included, and so serialises the commits of every writer in the
 * database (ADR 0110). Here it is one autocommit statement on a pool connection with `synchronous_commit`
 * off (a notification needs no durability), so no commit waits on it. At most one is in flight; the types of
 * batches committed meanwhile go together in the next, sent as soon as the one in flight returns. So the rate
 * is bounded by the round trip, and a reader in another process is woken at most one round trip later than
 * by a NOTIFY inside the transaction. (A 25 ms floor between sends was tried: it cut client CPU a little but
 * put the projection lag of a reader in another process from 3 to 23 ms at p50.)
 *
 * A notification only wakes live readers in other processes sooner; they poll anyway. So a failed send is
 * logged and dropped, and a process that dies between a commit and its notification leaves those readers
 * to their poll.
 */
export class CommitNotifier {
  readonly #pool: PgPoolLike;
  readonly #channel: string;
  readonly #senderTag: string;
  readonly #presence: ListenerPresence | undefined;
  readonly #logger: Logger;
  readonly #pending = new Set<string>();
  #sending: Promise<void> | undefined;

  /**
   * `senderTag` goes with every notification, so that the log's own listener can ignore them. With
   * `presence`, nothing is sent while no other log instance listens.
   */
  constructor(
    pool: PgPoolLike,
    channel: string,
    senderTag: string,
    logger: Logger,
    presence?: ListenerPresence | undefined,
  ) {
    this.#pool = pool;
    this.#channel = channel;
    this.#senderTag = senderTag;
    this.#presence = presence;
    this.#logger = logger;
  }

  /**
   * Notifies `types`: now if nothing is in flight, else as soon as the send in flight returns; not at all
   * while no other log instance listens (see {@link ListenerPresence}).
   */
  notify(types: ReadonlySet<string>): void {
    if (this.#presence?.othersMayListen === false) return;
    for (const type of types) this.#pending.add(type);
    this.#sending ??= this.#send();
  }

  /** Resolves once nothing is in flight or pending. */
  async close(): Promise<void> {
    while (this.#sending !== undefined) await this.#sending;
  }

  /**
   * Sends until nothing is pending, then clears `#sending` in the same turn as it found nothing left (so a
   * `notify` in between cannot be left pending). Never rejects: a failed send is logged.
   */
  async #send(): Promise<void> {
    while (this.#pending.size > 0) {
      const types = [...this.#pending].join(" ");
      this.#pending.clear();
      try {
        await this.#pool.query("SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)", [
          this.#channel,
          notificationPayload(this.#senderTag, types),
        ]);
      } catch (err) {
        this.#logger.warn("event log NOTIFY failed; live readers in other processes poll", {
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    this.#sending = undefined;
  }
}
