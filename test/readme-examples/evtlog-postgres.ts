// The examples of packages/evtlog-postgres/README.md, verbatim between the region markers
// (test/readme-code-blocks.test.ts checks); test/readme-examples.test.ts runs them.
// #region connect
import { Entity } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { account } from "./account.js"; // the entity of the repository README's quickstart

export async function depositOnPostgres(
  connectionString: string,
  schema: string,
  maxConnections = 10, // connections the log may open: 10 by default
): Promise<number | undefined> {
  const evtLog = await PostgresEvtLog.create({ connectionString, schema, maxConnections }); // sets up its tables
  try {
    const ref = await Entity.spawn("account-1", account, { evtLog });
    const result = await ref.handleCmd({ type: "deposit", amount: 100 });
    await ref.stop();
    return result.kind === "accepted" ? result.position : undefined; // the event's position in the log
  } finally {
    await evtLog.close();
  }
}

// #endregion connect

// #region pool
import pg from "pg";

export async function logOnYourPool(connectionString: string, schema: string): Promise<void> {
  const pool = new pg.Pool({ connectionString, max: 10 });
  // The log does not look inside a pool: tell it how many connections it may use.
  const evtLog = await PostgresEvtLog.create({ pool, schema, maxConnections: 10 });
  // ... Entity.spawn(id, definition, { evtLog }) as above; your own queries may use the pool too
  await evtLog.close(); // releases the log's connections; the pool stays open
  await pool.end();
}

// #endregion pool

// #region embedded
import { startEmbeddedPostgres } from "@eventsourced/evtlog-postgres/embedded";

export async function depositOnEmbedded(dataDir: string): Promise<number | undefined> {
  const embedded = await startEmbeddedPostgres({ dataDir }); // loopback, any free port
  try {
    // The embedded server takes one connection at a time (embedded.maxConnections is 1).
    return await depositOnPostgres(embedded.connectionString, "eventsourced", embedded.maxConnections);
  } finally {
    await embedded.stop();
  }
}

// #endregion embedded

// #region strict-fencing
import { isEventSourcedError } from "@eventsourced/core";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";

export async function writeUnderALease(connectionString: string, schema: string): Promise<string[]> {
  const leaseStore = await PostgresLeaseStore.create({ connectionString, schema, ttlMs: 5_000 });
  const log = await PostgresEvtLog.create({
    connectionString,
    schema,
    fencing: { leaseTable: leaseStore.table },
  });
  const outcomes: string[] = [];
  try {
    const grant = await leaseStore.tryAcquire("shard.orders.7", "node-a");
    if (grant === undefined) return outcomes;
    const shardLog = log.fenced({ key: grant.key, owner: grant.owner, epoch: grant.epoch });
    const evt = { bytes: new TextEncoder().encode("{}") };
    await shardLog.persist("order", "o-1", 0, [evt]);
    outcomes.push("written");
    await leaseStore.release(grant); // the tenure is over (as after an expiry or a takeover)
    await shardLog.persist("order", "o-1", 1, [evt]).catch((err: unknown) => {
      if (isEventSourcedError(err, "OWNERSHIP_LOST")) outcomes.push("refused: nothing written");
    });
    return outcomes; // ["written", "refused: nothing written"]
  } finally {
    await log.close();
    await leaseStore.close();
  }
}

// #endregion strict-fencing
