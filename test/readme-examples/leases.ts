// The examples of packages/leases/README.md, verbatim between the region markers
// (test/readme-code-blocks.test.ts checks); test/readme-examples.test.ts runs them.
// #region quick-start
import { type Lease, LeaseKeeper } from "@eventsourced/leases";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";

export async function runWhileLeased(
  connectionString: string,
  schema: string,
  runOneBatch: (epoch: number) => Promise<boolean>, // false: nothing more to do
  signal: AbortSignal,
): Promise<number> {
  const store = await PostgresLeaseStore.create({ connectionString, schema, ttlMs: 5_000 });
  const keeper = new LeaseKeeper(store, { onLost: (lease) => console.warn(`lost ${lease.key}`) });
  let batches = 0;
  try {
    const lease = await keeper.acquire("projection.totals", { signal }); // waits while another holds it
    while (lease.validFor(1_000) && (await runOneBatch(lease.epoch))) batches++; // ask before every act
    return batches;
  } finally {
    await keeper.close(); // releases what it holds
    await store.close();
  }
}
// #endregion quick-start

// #region many-keys
/** A cluster holds many keys through one keeper; all are renewed together in one `renewMany` per round. */
export async function takeShard(
  keeper: LeaseKeeper,
  type: string,
  shard: number,
): Promise<Lease | undefined> {
  const lease = await keeper.tryAcquire(`shard.${type}.${shard}`); // undefined while another process holds it
  return lease; // later: await lease?.release() for a graceful handoff
}

// #endregion many-keys

// #region fence
import type pg from "pg";

/** A write that commits only while `lease` is the live tenure of its key (strict fencing, L2). */
export async function fencedInsert(
  pool: pg.Pool,
  store: PostgresLeaseStore,
  lease: Lease,
  table: string, // a quoted, qualified table name with one text column `note`
  note: string,
): Promise<boolean> {
  const sql = `WITH fence AS MATERIALIZED (${store.table.fenceSql("$1", "$2", "$3")})
    INSERT INTO ${table} (note) SELECT $4 WHERE EXISTS (SELECT FROM fence) RETURNING 1`;
  const result = await pool.query(sql, [lease.key, lease.owner, lease.epoch, note]);
  return (result.rowCount ?? 0) > 0; // false: superseded or expired, nothing written
}

// #endregion fence

// #region nats
import { NatsLeaseStore } from "@eventsourced/leases/nats";

export async function leaseOnNats(servers: string, bucket: string): Promise<number> {
  // One bucket per TTL (NATS 2.9 expires keys by bucket, not per key).
  const store = await NatsLeaseStore.create({ servers, bucket, ttlMs: 5_000 });
  const keeper = new LeaseKeeper(store);
  try {
    const lease = await keeper.acquire("projection.totals");
    return lease.epoch; // the bucket's epoch base + the revision of the acquiring write
  } finally {
    await keeper.close();
    await store.close();
  }
}
// #endregion nats
