import { ConfigurationError, InvalidArgumentError, OwnershipLostError } from "@eventsourced/core";

/**
 * The tenure a fenced persist is written under: the lease `key` held by `owner` under `epoch` (a row of the
 * lease table named in `PostgresEvtLogOptions.fencing`). The persist is written only if that row is live
 * with exactly this owner and epoch when its batch checks it, and from then on the row is locked: a takeover
 * cannot commit before the persist's transaction ends, so no event ever commits under a superseded epoch.
 * (The tenure may expire by the clock meanwhile, e.g. while an in-transaction hook runs; nobody can take it
 * over until the commit.)
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

/**
 * The lease table of `options` (its quoted `"schema"."table"` name), validated; undefined without fencing.
 * Throws `ConfigurationError` on anything but a quoted qualified name.
 */
export function fenceLeaseTable(options: FencingOptions | undefined): string | undefined {
  if (options === undefined) return undefined;
  const table = options.leaseTable?.qualifiedName;
  if (typeof table !== "string" || !/^"[^"]+"\."[^"]+"$/.test(table)) {
    throw new ConfigurationError(
      `invalid fencing.leaseTable ${JSON.stringify(table)}: pass a PostgresLeaseStore's table (a quoted "schema"."table" name)`,
      "fencing.leaseTable",
      "PostgresEvtLogOptions",
    );
  }
  return table;
}

/**
 * The fence check inside a fenced batch statement (ADR 0132), as the CTE `live`: locks `FOR SHARE` the live
 * lease rows among the batch's distinct fences (parameters `$first` keys, `$first+1` owners, `$first+2`
 * epochs), in key byte order (the order `PostgresLeaseStore.renewMany` locks them in, ADR 0137, whatever the
 * database's collation),
 * and returns the ordinal `k` (from 1) of each fence found live. It runs after `lk` (the log lock, which it waits for through its one-time filter), so
 * the row locks that give the transaction its id are taken under the log lock (ADR 0108). A takeover
 * (`UPDATE` of a row) waits until the batch's transaction ends; a row updated concurrently is re-checked on
 * its newest version (READ COMMITTED), so a fence is reported live only if it still is once locked. In the
 * batch statement itself, not a round trip of its own: the log lock is never held while the client decides.
 */
export function liveFencesCte(leaseTable: string, first: number): string {
  return `live AS MATERIALIZED (
  SELECT f.k FROM unnest($${first}::text[], $${first + 1}::text[], $${first + 2}::int8[])
    WITH ORDINALITY AS f(key, owner, epoch, k)
  JOIN ${leaseTable} AS l ON l.key = f.key AND l.owner = f.owner AND l.epoch = f.epoch
  WHERE l.expires_at > clock_timestamp() AND EXISTS (SELECT FROM lk)
  ORDER BY l.key COLLATE "C" FOR SHARE OF l
)`;
}

/**
 * The parameters of {@link liveFencesCte} and of each persist's fence ordinal for `batch`: `ordinals[i]` is
 * the ordinal (from 1) of persist `i`'s fence among `keys` / `owners` / `epochs`, null when it has none.
 */
export function fenceParams(batch: readonly Fenced[]): {
  ordinals: (number | null)[];
  keys: string[];
  owners: string[];
  epochs: number[];
} {
  const ordinalOf = new Map<string, number>();
  const ordinals: (number | null)[] = new Array(batch.length);
  const keys: string[] = [];
  const owners: string[] = [];
  const epochs: number[] = [];
  for (let i = 0; i < batch.length; i++) {
    const fence = batch[i]!.fence;
    if (fence === undefined) {
      ordinals[i] = null;
      continue;
    }
    const id = fenceId(fence);
    let ordinal = ordinalOf.get(id);
    if (ordinal === undefined) {
      keys.push(fence.key);
      owners.push(fence.owner);
      epochs.push(fence.epoch);
      ordinal = keys.length;
      ordinalOf.set(id, ordinal);
    }
    ordinals[i] = ordinal;
  }
  return { ordinals, keys, owners, epochs };
}

/** The indexes of the persists of `batch` whose fence is not among the `live` ordinals (see {@link fenceParams}). */
export function fencedOut(batch: readonly Fenced[], live: readonly (number | string)[]): Set<number> {
  const held = new Set(live.map(Number));
  const { ordinals } = fenceParams(batch);
  const out = new Set<number>();
  for (let i = 0; i < ordinals.length; i++) {
    const ordinal = ordinals[i];
    if (ordinal !== null && ordinal !== undefined && !held.has(ordinal)) out.add(i);
  }
  return out;
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
