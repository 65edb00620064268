// The PostgreSQL example of packages/snapshots/README.md, verbatim between the region markers
// (test/readme-code-blocks.test.ts checks); test/readme-examples.test.ts runs it.
// #region postgres
import { Entity } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { PostgresSnapshotStore } from "@eventsourced/snapshots/postgres";
import pg from "pg";
import { account } from "./account.js"; // the entity of the repository README's quickstart

export async function snapshotsOnPostgres(
  connectionString: string,
  schema: string,
): Promise<number | undefined> {
  const pool = new pg.Pool({ connectionString, max: 4 }); // one pool for the log and the store
  const evtLog = await PostgresEvtLog.create({ pool, schema, maxConnections: 4 });
  const snapshotStore = await PostgresSnapshotStore.create({ pool, schema });
  try {
    const ref = await Entity.spawn("account-1", account, { evtLog, snapshotStore, snapshotAfter: 2 });
    await ref.handleCmd({ type: "deposit", amount: 100 });
    await ref.handleCmd({ type: "deposit", amount: 50 }); // seqNo 2: a snapshot is saved after the reply
    await ref.stop(); // waits for that save
    return (await snapshotStore.load("account", "account-1"))?.seqNo;
  } finally {
    await evtLog.close();
    await pool.end();
  }
}
// #endregion postgres
