import { ConfigurationError, InvalidArgumentError, OwnershipLostError } from "@eventsourced/core";
import { advisoryLockKey } from "./advisory-lock-key.js";
import type { PgClientLike } from "./pg-pool-like.js";

/**
 * The tenure a fenced persist is written under: the lease `key` held by `owner` under `epoch` (a row of the
 * lease table named in `PostgresEvtLogOptions.fencing`). The persist commits only while that row is live
 * with exactly this owner and epoch, and a takeover of the row waits until the persist's transaction ends,
 * so no event ever commits under a superseded epoch.
 */
export interface PersistFence {
  readonly key: string;
  readonly owner: string;
  /** The lease's epoch (fencing token): a positive integer. */
  readonly epoch: number;
}

/**
 * Where the leases of strict fencing live: a table with the layout of `@eventsourced/leases/postgres`
 * (`key text PRIMARY KEY, owner text, epoch bigint, expires_at timestamptz`, expiry on the server's
 * `clock_timestamp()`). `PostgresLeaseStore.table` satisfies it.
 */
export interface FenceLeaseTable {
  /** `"<schema>"."<table>"`, quoted, used in SQL as is. */
  readonly qualifiedName: string;
}

/** Options of strict fencing (L2): see `PostgresEvtLogOptions.fencing`. */
export interface FencingOptions {
  readonly leaseTable: FenceLeaseTable;
}

/** The fence check a committer runs in a batch's transaction, before its write. */
export interface FenceCheck {
  readonly sql: string;
  readonly name: string;
}

/**
 * Locks `FOR SHARE` the live lease rows among the batch's fences, in key order (the order renewals lock
 * them in), and returns them. A takeover (`UPDATE` of a row) waits until the batch's transaction ends; a row
 * updated concurrently is re-checked on its newest version (READ COMMITTED), so a fence is reported live
 * only if it still is once locked. Parameters: $1 keys, $2 owners, $3 epochs, one entry per distinct fence.
 */
export function fenceCheck(options: FencingOptions | undefined): FenceCheck | undefined {
  if (options === undefined) return undefined;
  const table = options.leaseTable?.qualifiedName;
  if (typeof table !== "string" || !/^"[^"]+"\."[^"]+"$/.test(table)) {
    throw new ConfigurationError(
      `invalid fencing.leaseTable ${JSON.stringify(table)}: pass a PostgresLeaseStore's table (a quoted "schema"."table" name)`,
      "fencing.leaseTable",
      "PostgresEvtLogOptions",
    );
  }
  return {
    sql: `SELECT l.key, l.owner, l.epoch FROM ${table} AS l
WHERE (l.key, l.owner, l.epoch) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::int8[]))
  AND l.expires_at > clock_timestamp()
ORDER BY l.key FOR SHARE OF l`,
    name: `eventsourced_fence_${advisoryLockKey(table).replace("-", "m")}`,
  };
}

/** Throws `InvalidArgumentError` unless `fence` is a well-formed {@link PersistFence}. */
export function validateFence(fence: PersistFence): void {
  if (typeof fence !== "object" || fence === null) {
    throw new InvalidArgumentError("invalid fence: an object { key, owner, epoch }");
  }
  const { key, owner, epoch } = fence;
  if (typeof key !== "string" || key.length === 0 || key.includes("\0")) {
    throw new InvalidArgumentError(
      `invalid fence key ${JSON.stringify(key)}: a non-empty string without NUL`,
    );
  }
  if (typeof owner !== "string" || owner.length === 0 || owner.includes("\0")) {
    throw new InvalidArgumentError(
      `invalid fence owner ${JSON.stringify(owner)}: a non-empty string without NUL`,
    );
  }
  if (!Number.isSafeInteger(epoch) || epoch < 1) {
    throw new InvalidArgumentError(`invalid fence epoch ${String(epoch)}: a positive integer`);
  }
}

/** A persist as far as fencing is concerned. */
interface Fenced {
  readonly type: string;
  readonly id: string;
  readonly fence?: PersistFence | undefined;
}

/**
 * Runs the fence check for `batch` on `client` (inside the batch's open transaction) and splits it: the
 * persists without a fence or with a live one go on to be written, the others are lost.
 */
export async function checkFences<P extends Fenced>(
  client: PgClientLike,
  check: FenceCheck,
  batch: readonly P[],
): Promise<{ live: P[]; lost: P[] }> {
  const distinct = new Map<string, PersistFence>();
  for (const p of batch) if (p.fence !== undefined) distinct.set(fenceId(p.fence), p.fence);
  const fences = [...distinct.values()];
  const res = await client.query({
    name: check.name,
    text: check.sql,
    values: [fences.map((f) => f.key), fences.map((f) => f.owner), fences.map((f) => f.epoch)],
  });
  const held = new Set(
    (res.rows as { key: string; owner: string; epoch: string | number }[]).map((row) =>
      fenceId({ key: row.key, owner: row.owner, epoch: Number(row.epoch) }),
    ),
  );
  const live: P[] = [];
  const lost: P[] = [];
  for (const p of batch) {
    if (p.fence === undefined || held.has(fenceId(p.fence))) live.push(p);
    else lost.push(p);
  }
  return { live, lost };
}

/** What a persist whose fence is no longer live rejects with: nothing of it was written. */
export function ownershipLost(p: Fenced & { readonly fence: PersistFence }): OwnershipLostError {
  const { key, owner, epoch } = p.fence;
  return new OwnershipLostError(
    p.type,
    p.id,
    `lease ${JSON.stringify(key)} is no longer held by ${JSON.stringify(owner)} under epoch ${epoch} ` +
      "(expired, released or taken over); nothing was written",
  );
}

function fenceId(fence: PersistFence): string {
  return `${fence.key}\u0000${fence.owner}\u0000${fence.epoch}`;
}

/**
 * A fence for a log created with or without `fencing` (its lease table): `ConfigurationError` without it,
 * else {@link validateFence}.
 */
export function validateFenceFor(fencing: boolean, fence: PersistFence): void {
  if (!fencing) {
    throw new ConfigurationError(
      "a fenced persist needs a lease table: create the log with fencing: { leaseTable }",
      "fencing",
      "PostgresEvtLogOptions",
    );
  }
  validateFence(fence);
}
