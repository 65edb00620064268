import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  Entity,
  EventsDeletedError,
  type EvtLog,
  type EvtLogRetention,
  type RetentionOutcome,
  runRetention,
  type SnapshotStore,
  silentLogger,
} from "@eventsourced/core";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { NatsSnapshotStore } from "@eventsourced/snapshots/nats";
import { PostgresSnapshotStore } from "@eventsourced/snapshots/postgres";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { counter, inc } from "../packages/core/test/fixtures.js";
import {
  connectTestNats,
  deleteStream,
  NATS_URL,
  uniqueName,
} from "../packages/evtlog-nats/test/support/nats-test-env.js";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../packages/evtlog-postgres/test/pg-test-database.js";
import { checkRun, settings, steps } from "./support/retention-model.js";
import { startWriter } from "./support/writer-process.js";

// Retention on the real logs and snapshot stores: the property of test/support/retention-model.ts, two
// processes sweeping the same entities at once, and retention while the entity keeps writing.

const SWEEPER = fileURLToPath(new URL("./fixtures/retention-sweeper.mjs", import.meta.url));
const BUILT = ["core", "evtlog-postgres", "evtlog-nats"].map((p) =>
  fileURLToPath(new URL(`../packages/${p}/dist/index.js`, import.meta.url)),
);

interface Opened {
  readonly evtLog: EvtLog & EvtLogRetention & { close(): Promise<void> };
  /** Keeps 3 snapshots per entity. */
  readonly snapshotStore: SnapshotStore & { close(): Promise<void> };
  /** A store on the same storage keeping 2, as the sweeper processes use. */
  readonly twoStore: SnapshotStore & { close(): Promise<void> };
  /** Sweeper arguments before `<type> <count>`. */
  readonly sweeperArgs: string[];
  cleanup(): Promise<void>;
}

/** Waits (generously bounded) until the store holds the entity's snapshot at `seqNo`. */
async function snapshotAt(store: SnapshotStore, type: string, id: string, seqNo: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await store.load(type, id))?.seqNo !== seqNo) {
    if (Date.now() > deadline) throw new Error(`no snapshot of ${type}/${id} at seqNo ${seqNo}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const backends: { name: string; open(): Promise<Opened> }[] = [
  {
    name: "PostgreSQL",
    async open() {
      await (await testPool(1)).end();
      const schema = uniqueSchemaName("retention_real");
      const evtLog = await PostgresEvtLog.create({
        connectionString: DATABASE_URL,
        schema,
        maxConnections: 4,
      });
      const snapshotStore = await PostgresSnapshotStore.create({
        connectionString: DATABASE_URL,
        schema,
        history: 3,
      });
      const twoStore = await PostgresSnapshotStore.create({
        connectionString: DATABASE_URL,
        schema,
        table: "snapshots_two",
        history: 2,
      });
      return {
        evtLog,
        snapshotStore,
        twoStore,
        sweeperArgs: ["postgres", DATABASE_URL, schema, "snapshots_two"],
        cleanup: () => dropSchema(schema),
      };
    },
  },
  {
    name: "NATS",
    async open() {
      const stream = uniqueName("retention_real");
      const bucket = uniqueName("retention-real");
      const evtLog = await NatsEvtLog.connect({
        servers: NATS_URL,
        stream: { name: stream, subjectPrefix: stream },
      });
      const snapshotStore = await NatsSnapshotStore.create({ servers: NATS_URL, bucket, history: 3 });
      const twoStore = await NatsSnapshotStore.create({
        servers: NATS_URL,
        bucket: `${bucket}-two`,
        history: 2,
      });
      const cleanup = async () => {
        const nc = await connectTestNats();
        for (const name of [stream, `KV_${bucket}`, `KV_${bucket}-two`]) await deleteStream(nc, name);
        await nc.close();
      };
      return {
        evtLog,
        snapshotStore,
        twoStore,
        sweeperArgs: ["nats", NATS_URL, stream, `${bucket}-two`],
        cleanup,
      };
    },
  },
];

describe.each(backends)("retention on $name", (backend) => {
  let opened: Opened;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    for (const file of BUILT) {
      if (!existsSync(file)) throw new Error("this test runs the built packages: run `npm run build` first");
    }
    opened = await backend.open();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await opened?.evtLog.close();
    await opened?.snapshotStore.close();
    await opened?.twoStore.close();
    await opened?.cleanup();
  });

  it("random commands, snapshots and retention runs: the recovered state always equals the full fold", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(settings(3), steps(25), async (s, plan) => {
        await checkRun(`prop-${run++}`, s, plan, opened);
      }),
      { numRuns: 8 },
    );
  }, 120_000);

  it("keeps working while the entity writes and another process sweeps the same entity", async () => {
    const { evtLog, snapshotStore } = opened;
    const retention = { snapshotEvery: 10, keepSnapshots: 3, deleteEvents: true, batchSize: 4 };
    const ref = await Entity.spawn("busy", counter, {
      evtLog,
      snapshotStore,
      retention,
      logger: silentLogger,
    });
    let sweeping = true;
    const sweeps: RetentionOutcome[] = [];
    const sweeper = (async () => {
      while (sweeping) {
        sweeps.push(await runRetention("counter", "busy", { evtLog, snapshotStore, policy: retention }));
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    for (let i = 0; i < 150; i++) await ref.handleCmd(inc(2));
    sweeping = false;
    await sweeper;
    await ref.stop();
    expect(sweeps.some((s) => s.deletedTo > 0)).toBe(true);
    const deletedTo = await evtLog.deletedTo("counter", "busy");
    // How far depends on which snapshots the scheduler coalesced while the commands kept coming.
    expect(deletedTo).toBeGreaterThan(0);
    const again = await Entity.spawn("busy", counter, {
      evtLog,
      snapshotStore,
      retention,
      logger: silentLogger,
    });
    expect(await again.handleCmd({ type: "get" })).toMatchObject({ reply: 300, seqNo: 150 });
    await again.stop();
  }, 60_000);

  it("recovery that needs deleted events without a usable snapshot fails with EventsDeletedError", async () => {
    const { evtLog, snapshotStore } = opened;
    const retention = { snapshotEvery: 10, keepSnapshots: 2, deleteEvents: true };
    const ref = await Entity.spawn("gone", counter, {
      evtLog,
      snapshotStore,
      retention,
      logger: silentLogger,
    });
    for (let n = 1; n <= 35; n++) {
      await ref.handleCmd(inc(1));
      if (n % 10 === 0) await snapshotAt(snapshotStore, "counter", "gone", n);
    }
    await ref.stop();
    expect(await evtLog.deletedTo("counter", "gone")).toBe(20);
    const error = await Entity.spawn("gone", counter, { evtLog, logger: silentLogger }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EventsDeletedError);
    expect(error).toMatchObject({ deletedTo: 20, neededFrom: 1 });
    const recovered = await Entity.spawn("gone", counter, { evtLog, snapshotStore, logger: silentLogger });
    expect(await recovered.handleCmd({ type: "get" })).toMatchObject({ reply: 35, seqNo: 35 });
    await recovered.stop();
  });

  it("two processes running retention over the same entities at once delete each event once and agree", async () => {
    const { evtLog, twoStore } = opened;
    const type = "swept";
    const entities = 12;
    await Promise.all(
      Array.from({ length: entities }, async (_, i) => {
        const ref = await Entity.spawn(
          `e${i}`,
          { ...counter, typeName: type },
          {
            evtLog,
            snapshotStore: twoStore,
            snapshotAfter: 10,
            logger: silentLogger,
          },
        );
        for (let n = 1; n <= 57; n++) {
          await ref.handleCmd(inc(1));
          // Wait for each snapshot before the next crossing (the scheduler coalesces pending ones otherwise).
          if (n % 10 === 0) await snapshotAt(twoStore, type, `e${i}`, n);
        }
        await ref.stop();
      }),
    );
    const sweepers = ["A", "B"].map((name) =>
      startWriter(SWEEPER, [...opened.sweeperArgs, type, String(entities)], name),
    );
    children.push(...sweepers.map((s) => s.child));
    await Promise.all(sweepers.map((s) => s.ready));
    for (const s of sweepers) s.child.stdin?.end("go\n");
    const reports = (await Promise.all(sweepers.map((s) => s.report))) as unknown as {
      outcomes: (RetentionOutcome & { id: string })[];
      failed: string[];
    }[];
    for (const report of reports) expect(report.failed).toEqual([]);
    for (let i = 0; i < entities; i++) {
      const id = `e${i}`;
      // Snapshots at 50 and 40 are kept: both sweepers aimed at 40 and agree on where they got.
      const seen = reports.map((r) => r.outcomes.find((o) => o.id === id)!);
      expect(seen.map((o) => o.deletedTo)).toEqual([40, 40]);
      expect(seen[0]!.removed + seen[1]!.removed).toBe(40);
      expect(await evtLog.deletedTo(type, id)).toBe(40);
      const remaining: number[] = [];
      for await (const r of evtLog.evtsById(type, id, { from: 1 })) remaining.push(r.seqNo);
      expect(remaining).toEqual(Array.from({ length: 17 }, (_, k) => 41 + k));
      const ref = await Entity.spawn(
        id,
        { ...counter, typeName: type },
        {
          evtLog,
          snapshotStore: twoStore,
          logger: silentLogger,
        },
      );
      expect(await ref.handleCmd({ type: "get" })).toMatchObject({ reply: 57, seqNo: 57 });
      await ref.stop();
    }
  }, 120_000);
});
