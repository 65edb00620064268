/**
 * A stable 64-bit advisory-lock key for `name` (FNV-1a), as the decimal string of a signed bigint so it can
 * be bound to a `bigint` parameter. Stable across processes and versions: every process writing the same
 * table must compute the same key.
 */
export function advisoryLockKey(name: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(name)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return BigInt.asIntN(64, hash).toString();
}

/**
 * Serialises schema setup of every eventsourced table in a database (event logs and snapshot stores use
 * the same key), so processes starting at once never race on `CREATE ... IF NOT EXISTS`.
 */
export const SETUP_LOCK_KEY: string = advisoryLockKey("eventsourced:schema-setup");
