import type { LeaseTable } from "./lease-table.js";

/** The SQL of one lease table's operations; every one a single autocommit statement. */
export interface LeaseStatements {
  readonly acquire: string;
  readonly renewMany: string;
  readonly release: string;
  readonly holder: string;
}

/**
 * Every expiry is computed and compared by the server's `clock_timestamp()` (not `now()`, which is frozen at
 * the start of the transaction and would let a statement that waited on a lock stamp a stale time).
 * `$ttl` is passed in milliseconds.
 */
export function leaseStatements(t: LeaseTable): LeaseStatements {
  const ttl = (param: string) => `${param}::double precision * interval '1 millisecond'`;
  return {
    // An expired row is taken over with the next epoch; a key without a row gets one with epoch 1. The
    // acquire never waits on a row someone else has locked (ADR 0131): the row is locked `FOR UPDATE SKIP
    // LOCKED`, so an expired row still held `FOR SHARE` by a fenced batch (of an owner frozen mid-transaction,
    // until its session is ended) or being taken over by a racing acquirer is skipped and the statement
    // returns nothing at once; a live row fails the filter before any lock is tried. When the newest version
    // was committed after the statement's snapshot, the lock re-checks the filter on it, so a row just taken
    // over by someone else is not taken again. Both branches share one snapshot and at most one of them
    // finds a row (the `UPDATE` needs the row in the snapshot, the `INSERT` its absence); racing inserts of
    // a new key are settled by the primary key (`DO NOTHING` for all but one).
    // With `$4` true (after an acquire of this owner whose outcome is unknown, ADR 0148) a live row of owner
    // `$2` is taken over as well, under the next epoch: the lost acquire may have committed it.
    acquire: `WITH taken AS (
        UPDATE ${t.qualifiedName} AS l SET owner = $2, epoch = l.epoch + 1,
          expires_at = clock_timestamp() + ${ttl("$3")}, acquired_at = clock_timestamp(), renewed_at = clock_timestamp()
        WHERE l.key = (SELECT e.key FROM ${t.qualifiedName} AS e
          WHERE e.key = $1 AND (e.expires_at <= clock_timestamp() OR ($4::boolean AND e.owner = $2))
          FOR UPDATE SKIP LOCKED)
        RETURNING l.epoch
      ), created AS (
        INSERT INTO ${t.qualifiedName} (key, owner, epoch, expires_at, acquired_at, renewed_at)
        SELECT $1, $2, 1, clock_timestamp() + ${ttl("$3")}, clock_timestamp(), clock_timestamp()
        WHERE NOT EXISTS (SELECT FROM ${t.qualifiedName} AS x WHERE x.key = $1)
        ON CONFLICT (key) DO NOTHING
        RETURNING epoch
      )
      SELECT epoch FROM taken UNION ALL SELECT epoch FROM created`,
    // One round trip for any number of leases. The owner AND epoch must match and the lease must still be
    // live: an expired lease is never extended (it can only be acquired again, under a new epoch).
    // Locks are taken in key byte order (ADR 0137), the order a fenced batch locks the same rows `FOR SHARE`
    // in (`ORDER BY key COLLATE "C"`, ADR 0132): `locked` sorts, then locks (a locking clause applies after
    // ORDER BY), and the `UPDATE` changes only rows it already holds. An `UPDATE ... FROM unnest(...)` alone
    // locks in the plan's order: a sequential scan of the table (physical order) when the keeper renews part
    // of a bigger table, and a renewal meeting a batch in the middle deadlocked. A row that changed while the
    // lock waited is re-checked on its newest version (READ COMMITTED) and left out if no longer this tenure.
    renewMany: `WITH locked AS MATERIALIZED (
        SELECT l.key FROM ${t.qualifiedName} AS l
        JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS r(key, owner, epoch)
          ON l.key = r.key AND l.owner = r.owner AND l.epoch = r.epoch
        WHERE l.expires_at > clock_timestamp()
        ORDER BY l.key COLLATE "C" FOR NO KEY UPDATE OF l
      )
      UPDATE ${t.qualifiedName} AS l
      SET expires_at = clock_timestamp() + ${ttl("$4")}, renewed_at = clock_timestamp()
      FROM locked WHERE l.key = locked.key AND l.expires_at > clock_timestamp()
      RETURNING l.key`,
    // Expires the row now instead of deleting it, so its epoch survives for the next tenure.
    release: `UPDATE ${t.qualifiedName} SET expires_at = clock_timestamp()
      WHERE key = $1 AND owner = $2 AND epoch = $3 AND expires_at > clock_timestamp()
      RETURNING epoch`,
    holder: `SELECT owner, epoch FROM ${t.qualifiedName} WHERE key = $1 AND expires_at > clock_timestamp()`,
  };
}
