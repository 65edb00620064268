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
    // A free key gets a row with epoch 1; an existing row is taken over only once it has expired, with the
    // next epoch. Racing acquirers serialise on the row (or the speculative insert) and re-check the
    // condition on the newest version, so exactly one gets a row back.
    acquire: `INSERT INTO ${t.qualifiedName} AS l (key, owner, epoch, expires_at, acquired_at, renewed_at)
      VALUES ($1, $2, 1, clock_timestamp() + ${ttl("$3")}, clock_timestamp(), clock_timestamp())
      ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, epoch = l.epoch + 1,
        expires_at = clock_timestamp() + ${ttl("$3")}, acquired_at = clock_timestamp(), renewed_at = clock_timestamp()
      WHERE l.expires_at <= clock_timestamp()
      RETURNING epoch`,
    // One round trip for any number of leases. The owner AND epoch must match and the lease must still be
    // live: an expired lease is never extended (it can only be acquired again, under a new epoch).
    renewMany: `UPDATE ${t.qualifiedName} AS l
      SET expires_at = clock_timestamp() + ${ttl("$4")}, renewed_at = clock_timestamp()
      FROM unnest($1::text[], $2::text[], $3::bigint[]) AS r(key, owner, epoch)
      WHERE l.key = r.key AND l.owner = r.owner AND l.epoch = r.epoch AND l.expires_at > clock_timestamp()
      RETURNING l.key`,
    // Expires the row now instead of deleting it, so its epoch survives for the next tenure.
    release: `UPDATE ${t.qualifiedName} SET expires_at = clock_timestamp()
      WHERE key = $1 AND owner = $2 AND epoch = $3 AND expires_at > clock_timestamp()
      RETURNING epoch`,
    holder: `SELECT owner, epoch FROM ${t.qualifiedName} WHERE key = $1 AND expires_at > clock_timestamp()`,
  };
}
