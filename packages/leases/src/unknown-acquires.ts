/**
 * Acquires of a store whose outcome is unknown (the request failed after it may have been applied: its
 * connection was lost, or its timeout passed), by key and owner. If such an acquire landed, the key holds a
 * live lease of the owner that nobody knows of; the store's next acquire of the key by the same owner may
 * take it over under a new epoch instead of waiting out its TTL (ADR 0148). An entry lasts two TTLs after
 * the acquire was sent (a write that landed has expired by then, unless it arrived that late) or until the
 * owner acquires the key. Internal to this package.
 */
export class UnknownAcquires {
  readonly #until = new Map<string, bigint>();
  readonly #lastsNs: bigint;

  constructor(ttlMs: number) {
    this.#lastsNs = BigInt(2 * ttlMs) * 1_000_000n;
  }

  /** Notes that `owner`'s acquire of `key`, sent at `sentAt` (`process.hrtime.bigint()`), has an unknown outcome. */
  add(key: string, owner: string, sentAt: bigint): void {
    const now = process.hrtime.bigint();
    for (const [id, until] of this.#until) if (until <= now) this.#until.delete(id);
    this.#until.set(idOf(key, owner), sentAt + this.#lastsNs);
  }

  /** Whether `owner` has an acquire of `key` with an unknown outcome, sent within the last two TTLs. */
  has(key: string, owner: string): boolean {
    const until = this.#until.get(idOf(key, owner));
    return until !== undefined && process.hrtime.bigint() < until;
  }

  /** Forgets it: `owner` holds `key` through a known acquire. */
  delete(key: string, owner: string): void {
    this.#until.delete(idOf(key, owner));
  }
}

function idOf(key: string, owner: string): string {
  return JSON.stringify([key, owner]);
}
