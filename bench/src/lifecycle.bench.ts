/**
 * `npm run bench:lifecycle [-- --quick]`: what the event lifecycle (issue 13) costs and bounds.
 *
 * Scenarios: (1) PostgreSQL: batched event deletion running beside persisting writers, against the same
 * writers alone in rotating rounds (events deleted per second; the writers' persist p99 with and without
 * deletion, and its rise), unpaced (raw statements back to back: the raw speed) and paced as background
 * deletion runs by default (`deleteEntity` through a `DeletionPacer`, ADR 0115); (2) NATS: purging an entity's history but its last message (`deleteEvts`), against a raw
 * `purge { filter, keep: 1 }` (entities per second); (3) retention on (a snapshot every 100 events, 2 kept,
 * events deleted): events stored per counter and what one recovery reads (snapshots, events), in memory at
 * the full 1,000,000 commands on 100 counters, and scaled down on PostgreSQL and NATS (the row says how far).
 * Each counter stops 99 commands after a snapshot, the worst case: the most events stored and replayed.
 */

import { DEFAULT_DELETION_PACING, silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { NatsSnapshotStore } from "@eventsourced/snapshots/nats";
import { PostgresSnapshotStore } from "@eventsourced/snapshots/postgres";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import pg from "pg";
import { natsPurgeScenario } from "./lifecycle-deletion.js";
import { pgDeletionScenario } from "./lifecycle-pg-deletion.js";
import { retentionWorkload } from "./lifecycle-retention.js";
import { quick } from "./measure.js";
import { machineFacts, type ResultRow, writeResults } from "./results.js";
import {
  connectBenchNats,
  DATABASE_URL,
  NATS_URL,
  natsVersion,
  postgresServerVersion,
  postgresUnreachable,
} from "./service-versions.js";

const ROUNDS = quick ? 1 : 3;
/**
 * Rounds of the PostgreSQL deletion rows: a writer's p99 over one 3 s window moves by tens of percent
 * when a checkpoint or autovacuum lands in it, so the p99 rise (paired by round) takes the median of five.
 */
const DELETION_ROUNDS = quick ? 1 : 5;
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`;

async function withSchema<T>(label: string, body: (schema: string) => Promise<T>): Promise<T> {
  const schema = `bench_${label}_${RUN_ID}`;
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  admin.on("error", () => {});
  try {
    await admin.query("SELECT 1").catch((err: Error) => {
      throw postgresUnreachable(err);
    });
    return await body(schema);
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
    await admin.end();
  }
}

async function withNats<T>(body: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await connectBenchNats();
  try {
    return await body(nc);
  } finally {
    await nc.close();
  }
}

async function postgresScenarios(): Promise<ResultRow[]> {
  // Two batch sizes unpaced: per event, the larger costs the database less (one statement and commit per
  // batch). The paced variant runs with the default pacing (60,000 events/s, batches of 1,000, one at a
  // time): a batch of 1,000 takes about 1.5 ms on a quiet machine, about the writers' p99, so a persist
  // that meets one waits about one batch at worst, and deletion runs about 10 % of the time. That
  // should keep the writers' p99 rise within 20 % while deleting 60,000 events/s (ADR 0115).
  const deletion: ResultRow[] = [];
  for (const batch of [250, 1_000]) {
    const rows = await withSchema(`lc_delete_${batch}`, (schema) =>
      pgDeletionScenario(DATABASE_URL, schema, {
        rounds: DELETION_ROUNDS,
        loop: { durationMs: quick ? 600 : 3_000, warmupMs: quick ? 200 : 500 },
        writers: 50,
        // Enough for deletion at up to about 100,000 events/s through every measured window.
        entitiesPerRound: Math.ceil((quick ? 60_000 : 300_000) / batch),
        evtsPerEntity: batch,
        ...(batch === 1_000 ? { paced: DEFAULT_DELETION_PACING } : {}),
      }),
    );
    deletion.push(...rows);
  }
  const retention = await withSchema("lc_retain", async (schema) => {
    const evtLog = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 8,
      logger: silentLogger,
    });
    const snapshotStore = await PostgresSnapshotStore.create({
      connectionString: DATABASE_URL,
      schema,
      history: 2,
    });
    try {
      return await retentionWorkload({
        label: "postgres",
        evtLog,
        snapshotStore,
        counters: 100,
        commandsEach: quick ? 349 : 1_099,
      });
    } finally {
      await evtLog.close();
      await snapshotStore.close();
    }
  });
  return [...deletion, ...retention];
}

async function natsScenarios(): Promise<ResultRow[]> {
  return withNats(async (nc) => {
    const jsm = await jetstreamManager(nc);
    const purgeStream = `bench_lc_purge_${RUN_ID}`;
    const retainStream = `bench_lc_retain_${RUN_ID}`;
    const bucket = `bench-lc-${RUN_ID}`;
    try {
      const purge = await natsPurgeScenario(nc, jsm, purgeStream, {
        rounds: ROUNDS,
        entitiesPerRound: quick ? 300 : 1_000,
        messagesPerEntity: 3,
        concurrency: 32,
      });
      const evtLog = await NatsEvtLog.connect({
        connection: nc,
        stream: { name: retainStream, subjectPrefix: retainStream },
        logger: silentLogger,
      });
      const snapshotStore = await NatsSnapshotStore.create({ connection: nc, bucket, history: 2 });
      const retention = await retentionWorkload({
        label: "nats",
        evtLog,
        snapshotStore,
        counters: 100,
        commandsEach: quick ? 349 : 1_099,
      });
      await evtLog.close();
      return [...purge, ...retention];
    } finally {
      for (const name of [purgeStream, retainStream, `KV_${bucket}`])
        await jsm.streams.delete(name).catch(() => {});
    }
  });
}

async function inMemoryScenario(): Promise<ResultRow[]> {
  return retentionWorkload({
    label: "in memory",
    evtLog: new InMemoryEvtLog(),
    snapshotStore: new InMemorySnapshotStore({ history: 2 }),
    counters: 100,
    commandsEach: quick ? 1_099 : 10_099,
    yieldEvery: 50,
  });
}

async function main(): Promise<void> {
  const [postgres, nats] = await Promise.all([postgresServerVersion(DATABASE_URL), natsVersion(NATS_URL)]);
  console.log(
    `lifecycle: PostgreSQL ${postgres ?? "unknown"}, ${nats ?? "NATS unknown"}${quick ? " (quick)" : ""}`,
  );
  const rows = [...(await inMemoryScenario()), ...(await postgresScenarios()), ...(await natsScenarios())];
  writeResults(
    "lifecycle",
    rows,
    machineFacts({
      ...(postgres === undefined ? {} : { postgres }),
      ...(nats === undefined ? {} : { nats }),
    }),
  );
}

await main();
