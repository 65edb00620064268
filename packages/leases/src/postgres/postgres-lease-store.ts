import type { ConnectionOptions } from "node:tls";
import { InvalidArgumentError } from "@eventsourced/core";
import type { PgQueryPoolLike } from "@eventsourced/evtlog-postgres";
import {
  connectionTarget,
  createPool,
  type OwnedPool,
  setupError,
} from "@eventsourced/evtlog-postgres/internal";
import {
  validateLeaseGrant,
  validateLeaseGrants,
  validateLeaseKey,
  validateLeaseOwner,
  validateTtlMs,
} from "../lease-key.js";
import type { LeaseGrant, LeaseHolder, LeaseStore } from "../lease-store.js";
import { LeaseStoreError } from "../lease-store-error.js";
import { UnknownAcquires } from "../unknown-acquires.js";
import { setupLeaseSchema } from "./lease-schema.js";
import { type LeaseStatements, leaseStatements } from "./lease-statements.js";
import { type LeaseTable, leaseTable } from "./lease-table.js";

/** Options of {@link PostgresLeaseStore.create}. */
export interface PostgresLeaseStoreOptions {
  /** How long a grant or renewal lasts on the server, in milliseconds. Default 5,000. */
  readonly ttlMs?: number | undefined;
  /** The store creates (and on `close` ends) its own `pg.Pool` from it; ignored when `pool` is given. */
  readonly connectionString?: string | undefined;
  /**
   * An existing `pg`-compatible pool, never ended by the store. Give it a `query_timeout` of about the TTL:
   * on its own pool the store times out each lease statement after a TTL, so that a renewal lost in a
   * network partition fails instead of holding the keeper until TCP gives up.
   */
  readonly pool?: PgQueryPoolLike | undefined;
  /** Default `"eventsourced"`. */
  readonly schema?: string | undefined;
  /** Default `"leases"`. Stores of different TTLs may share one table. */
  readonly table?: string | undefined;
  /** Size of the pool created from `connectionString`. Default 2. */
  readonly maxConnections?: number | undefined;
  /** TLS, passed to `pg` as its `ssl` option. */
  readonly ssl?: boolean | ConnectionOptions | undefined;
  /**
   * Each new connection of the pool the store creates sets server-side TCP keepalive, `tcp_user_timeout` and
   * `client_connection_check_interval`, so the server ends a gone client's session in about 30 s (as
   * `PostgresEvtLog`'s option of the same name, ADR 0145). Default true; off for a pooler that rejects
   * `SET`. Not applied to a pool passed in.
   */
  readonly serverKeepalive?: boolean | undefined;
  /** Run the versioned schema setup on create. Default true. */
  readonly setup?: boolean | undefined;
}

/** `pg.Pool`'s query with a config object (a client-side `query_timeout` for one statement). */
interface TimedQueryPool {
  query(config: { text: string; values: unknown[]; query_timeout: number }): Promise<{ rows: unknown[] }>;
}

/**
 * Leases as rows of a PostgreSQL table (layout in {@link LeaseTable}). Expiry is the database's
 * `clock_timestamp()`; the epoch grows by one on every takeover; renew and release check owner and epoch.
 * No session state (no advisory session locks, no prepared statements by name), so it works through
 * transaction poolers.
 * @example
 * const store = await PostgresLeaseStore.create({ connectionString: process.env.DATABASE_URL, ttlMs: 5_000 });
 * const keeper = new LeaseKeeper(store);
 * const lease = await keeper.acquire("projection.totals");
 */
export class PostgresLeaseStore implements LeaseStore {
  readonly ttlMs: number;
  /** The table and what strict fencing needs from it. */
  readonly table: LeaseTable;
  readonly #pool: PgQueryPoolLike;
  readonly #ownedPool: OwnedPool | undefined;
  readonly #sql: LeaseStatements;
  readonly #target: string;
  /** Acquires whose outcome is unknown: the owner's next acquire of the key may take its own row over. */
  readonly #unknownAcquires: UnknownAcquires;

  private constructor(
    ttlMs: number,
    table: LeaseTable,
    pool: PgQueryPoolLike,
    ownedPool: OwnedPool | undefined,
    target: string,
  ) {
    this.ttlMs = ttlMs;
    this.table = table;
    this.#pool = pool;
    this.#ownedPool = ownedPool;
    this.#sql = leaseStatements(table);
    this.#target = target;
    this.#unknownAcquires = new UnknownAcquires(ttlMs);
  }

  /**
   * Connects, runs the schema setup (unless `setup: false`) and returns the store. Rejects with
   * `ConnectionError` naming host, port and database (never the password) when the server is unreachable,
   * `ConfigurationError` for a bad TTL and `InvalidArgumentError` for bad schema or table names.
   */
  static async create(options: PostgresLeaseStoreOptions = {}): Promise<PostgresLeaseStore> {
    const ttlMs = options.ttlMs ?? 5_000;
    validateTtlMs(ttlMs, "PostgresLeaseStoreOptions");
    const table = leaseTable(options.schema ?? "eventsourced", options.table ?? "leases");
    const connectionString = options.pool === undefined ? options.connectionString : undefined;
    const target = connectionTarget(connectionString, options.pool !== undefined);
    const max = options.maxConnections ?? 2;
    if (!Number.isInteger(max) || max < 1) {
      throw new InvalidArgumentError(`invalid maxConnections ${max}: must be a positive integer`);
    }
    const ownedPool =
      options.pool === undefined
        ? await createPool({
            connectionString,
            max,
            ssl: options.ssl,
            serverKeepalive: options.serverKeepalive ?? true,
            applicationName: "eventsourced-leases",
            // A connection (or a check-out) that takes longer than a TTL is of no use to a renewal; one whose
            // startup a partition lost would otherwise hold the keeper's renewal round, and a pool slot, for
            // the default 10 s, while every lease it holds runs out.
            connectTimeoutMs: ttlMs,
            // A failed lease operation reports its own error; an idle connection's failure needs no more.
            onIdleError: () => {},
          })
        : undefined;
    const pool = options.pool ?? (ownedPool as OwnedPool);
    try {
      if (options.setup ?? true) await setupLeaseSchema(pool, table);
      else await pool.query("SELECT 1");
    } catch (err) {
      await ownedPool?.end().catch(() => {});
      throw setupError(err, target, `set up the lease table ${table.qualifiedName}`);
    }
    return new PostgresLeaseStore(ttlMs, table, pool, ownedPool, target);
  }

  async tryAcquire(key: string, owner: string): Promise<LeaseGrant | undefined> {
    validateLeaseKey(key);
    validateLeaseOwner(owner);
    const sentAt = process.hrtime.bigint();
    // After an acquire of this owner whose outcome is unknown, a live row of this owner is taken over too:
    // the lost acquire may have committed, and nobody holds that row (ADR 0148).
    const takeOver = this.#unknownAcquires.has(key, owner);
    let rows: unknown[];
    try {
      rows = await this.#query("acquire", key, this.#sql.acquire, [key, owner, this.ttlMs, takeOver]);
    } catch (err) {
      // Timed out or lost with its connection: the statement may have committed (or not).
      this.#unknownAcquires.add(key, owner, sentAt);
      throw err;
    }
    const row = rows[0] as { epoch: string | number } | undefined;
    if (row === undefined) return undefined;
    this.#unknownAcquires.delete(key, owner);
    const epoch = Number(row.epoch);
    return { key, owner, epoch, sentAt, ttlMs: this.ttlMs, revision: epoch };
  }

  async renew(grant: LeaseGrant): Promise<LeaseGrant | undefined> {
    return (await this.renewMany([grant]))[0];
  }

  async renewMany(grants: readonly LeaseGrant[]): Promise<(LeaseGrant | undefined)[]> {
    validateLeaseGrants(grants);
    if (grants.length === 0) return [];
    // The statement itself locks the rows in key byte order (ADR 0137), whatever the order of `grants`.
    const sentAt = process.hrtime.bigint();
    const rows = await this.#query(
      "renew",
      grants.length === 1 ? grants[0]!.key : `${grants.length} leases`,
      this.#sql.renewMany,
      [grants.map((g) => g.key), grants.map((g) => g.owner), grants.map((g) => g.epoch), this.ttlMs],
    );
    const renewed = new Set(rows.map((row) => (row as { key: string }).key));
    return grants.map((grant) =>
      renewed.has(grant.key) ? { ...grant, sentAt, ttlMs: this.ttlMs, revision: grant.epoch } : undefined,
    );
  }

  async release(grant: LeaseGrant): Promise<boolean> {
    validateLeaseGrant(grant);
    const rows = await this.#query("release", grant.key, this.#sql.release, [
      grant.key,
      grant.owner,
      grant.epoch,
    ]);
    return rows.length > 0;
  }

  async holder(key: string): Promise<LeaseHolder | undefined> {
    validateLeaseKey(key);
    const rows = await this.#query("read", key, this.#sql.holder, [key]);
    const row = rows[0] as { owner: string; epoch: string | number } | undefined;
    return row === undefined ? undefined : { key, owner: row.owner, epoch: Number(row.epoch) };
  }

  /** Ends the pool if the store created it; a pool passed in is left open. */
  async close(): Promise<void> {
    await this.#ownedPool?.end();
  }

  async #query(what: string, key: string, text: string, values: unknown[]): Promise<unknown[]> {
    try {
      // On its own pool (a `pg.Pool`), a lease statement not answered within a TTL fails and its connection
      // is discarded: a renewal answered later is worth nothing, and one lost in a network partition (no
      // reset, no answer) would otherwise hold the keeper until TCP gives up, minutes later. Setup waits
      // on the setup lock as long as it takes; a pool passed in keeps its own settings.
      const result =
        this.#ownedPool === undefined
          ? await this.#pool.query(text, values)
          : await (this.#ownedPool as unknown as TimedQueryPool).query({
              text,
              values,
              query_timeout: this.ttlMs,
            });
      return result.rows;
    } catch (err) {
      throw new LeaseStoreError(
        `cannot ${what} lease ${JSON.stringify(key)} on PostgreSQL at ${this.#target}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}
