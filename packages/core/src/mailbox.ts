/** Something that can wait in a {@link Mailbox} and be withdrawn before it is taken. */
export interface MailboxItem {
  /** True from `push` until the item is taken or withdrawn; maintained by the mailbox. */
  inMailbox: boolean;
}

// Below this many consumed slots the array is not worth compacting; above it, compact once half is dead.
const COMPACT_AFTER = 1024;

/**
 * The bounded FIFO in front of an entity: `capacity` items fit in the mailbox proper, later callers wait
 * for room in arrival order.
 *
 * Waiting for room and sitting in the mailbox are one queue here: both wait in arrival order, both can be
 * withdrawn, and an item moves from "waiting" to "in the mailbox" exactly when the one ahead of the mailbox
 * is taken. Keeping them in one array makes push, take and withdraw O(1) without a second list to shuffle
 * between; {@link queued} and {@link waiting} report the split.
 *
 * Consumed slots are cleared and skipped through a head index rather than `shift()`ed, which would copy
 * the whole array on every take once it is large.
 */
export class Mailbox<T extends MailboxItem> {
  readonly #capacity: number;
  #items: (T | undefined)[] = [];
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Items not yet taken or withdrawn: those in the mailbox plus those waiting for room. */
  get size(): number {
    return this.#size;
  }

  /** Items in the mailbox proper (at most the capacity). */
  get queued(): number {
    return Math.min(this.#size, this.#capacity);
  }

  /** Callers waiting for room because the mailbox is full. */
  get waiting(): number {
    return Math.max(0, this.#size - this.#capacity);
  }

  push(item: T): void {
    item.inMailbox = true;
    this.#items.push(item);
    this.#size++;
  }

  /** The oldest item that was not withdrawn, or `undefined` when there is none. */
  take(): T | undefined {
    const items = this.#items;
    while (this.#head < items.length) {
      const item = items[this.#head];
      items[this.#head++] = undefined;
      if (item?.inMailbox) {
        item.inMailbox = false;
        this.#size--;
        this.#compact();
        return item;
      }
    }
    this.#compact();
    return undefined;
  }

  /** Withdraws a pending item so it is never taken; false when it was already taken or withdrawn. */
  withdraw(item: T): boolean {
    if (!item.inMailbox) return false;
    item.inMailbox = false;
    this.#size--;
    return true;
  }

  /** Takes every remaining item, oldest first. */
  takeAll(): T[] {
    const all: T[] = [];
    for (let item = this.take(); item !== undefined; item = this.take()) all.push(item);
    return all;
  }

  #compact(): void {
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
