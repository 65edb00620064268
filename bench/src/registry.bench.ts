/**
 * `npm run bench:registry [-- --quick]`: what the entity registry costs (run with `node --expose-gc`, as
 * the script does).
 *
 * 1. `registry.send` against `ref.handleCmd` on refs held by hand, 1,000 resident entities each driven by
 *    its own sequential loop, on the in-memory log; rounds interleave both.
 * 2. Heap per resident entity (state + actor + registry slot), against entities spawned and held by hand,
 *    on a log that stores nothing (so only the runtime is measured).
 * 3. 1,000,000 distinct ids touched once with `maxActive` 10,000, on that log: heap at the end against the
 *    bound baseline + 10,000 x resident size + 16 MB, and after `close()` against the baseline +- 2 MB.
 * 4. Re-activation on PostgreSQL: p50/p99 of a command to a passivated entity that recovers from the
 *    snapshot saved at its passivation, and to one that replays its 100 events, against a resident one.
 * 5. `registry.send` against `ref.handleCmd` on PostgreSQL, 100 entities each driven by its own closed loop:
 *    the registry recovers each entity on its first command (during the warm-up), the refs are spawned up
 *    front, so the row shows whether lazily recovered entities batch as well as spawned ones (ADR 0126).
 */
import {
  Entity,
  EntityRegistry,
  type EvtLog,
  type EvtRecord,
  type NewEvt,
  type Persisted,
  silentLogger,
  type TypedEvtRecord,
} from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { PostgresSnapshotStore } from "@eventsourced/snapshots/postgres";
import pg from "pg";
import { benchCounter, counter, driveCounters, type IncCmd } from "./bench-counter.js";
import { closedLoop, type Measured } from "./closed-loop.js";
import { comparisonRow, quick, rotateRounds } from "./measure.js";
import { machineFacts, type ResultRow, writeResults } from "./results.js";
import { DATABASE_URL, postgresUnreachable } from "./service-versions.js";

const gc = (globalThis as { gc?: () => void }).gc;

const INC: IncCmd = { inc: 1 };

/** A log that stores nothing: every entity is new, every persist succeeds. Only the runtime uses memory. */
class NullEvtLog implements EvtLog {
  #position = 0;
  async persist(_type: string, _id: string, expected: number, evts: readonly NewEvt[]): Promise<Persisted> {
    this.#position += evts.length;
    return { seqNo: expected + evts.length, position: this.#position };
  }
  async lastSeqNo(): Promise<number> {
    return 0;
  }
  async *evtsById(): AsyncIterable<EvtRecord> {}
  async *evtsByType(): AsyncIterable<TypedEvtRecord> {}
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
const cpuMicros = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** Heap used after full collections (several, so that weak references and finalizers settle). */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc!();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/** Runs `work(i)` for i in [0, count) with at most `concurrency` in flight. */
async function forEachConcurrently(
  count: number,
  concurrency: number,
  work: (i: number) => Promise<unknown>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      for (let i = next++; i < count; i = next++) await work(i);
    }),
  );
}

// 1. Throughput of send against handleCmd.

const ENTITIES = 1_000;
const COMMANDS = quick ? 20 : 100;

async function timedLoops(
  send: (i: number) => Promise<unknown>,
): Promise<{ perSecond: number; cpu: number }> {
  const startCpu = cpuMicros();
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: ENTITIES }, async (_, i) => {
      for (let n = 0; n < COMMANDS; n++) await send(i);
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return {
    perSecond: (ENTITIES * COMMANDS) / seconds,
    cpu: (cpuMicros() - startCpu) / (ENTITIES * COMMANDS),
  };
}

async function viaRegistry(): Promise<{ perSecond: number; cpu: number }> {
  const registry = new EntityRegistry(benchCounter, { evtLog: new InMemoryEvtLog(), logger: silentLogger });
  const ids = Array.from({ length: ENTITIES }, (_, i) => `e${i}`);
  await Promise.all(ids.map((id) => registry.send(id, INC)));
  const measured = await timedLoops((i) => registry.send(ids[i]!, INC));
  await registry.close();
  return measured;
}

async function viaRefs(): Promise<{ perSecond: number; cpu: number }> {
  const evtLog = new InMemoryEvtLog();
  const refs = await Promise.all(
    Array.from({ length: ENTITIES }, (_, i) =>
      Entity.spawn(`e${i}`, benchCounter, { evtLog, logger: silentLogger }),
    ),
  );
  await Promise.all(refs.map((ref) => ref.handleCmd(INC)));
  const measured = await timedLoops((i) => refs[i]!.handleCmd(INC));
  await Promise.all(refs.map((ref) => ref.stop()));
  return measured;
}

async function sendVsHandleCmd(rows: ResultRow[]): Promise<void> {
  await viaRegistry();
  await viaRefs();
  // Rotating rounds: each system goes first every other round.
  const results = await rotateRounds(quick ? 3 : 9, { registry: viaRegistry, refs: viaRefs });
  const [ours, direct] = [results.get("registry")!, results.get("refs")!];
  const fields = (metric: string, unit: string) => ({
    scenario: "registry.send vs ref.handleCmd",
    metric,
    unit,
    series: "registry",
    entities: ENTITIES,
  });
  const throughput = comparisonRow(fields("throughput", "commands/s"), (m) => m.perSecond, ours, direct);
  rows.push(
    throughput,
    comparisonRow(fields("cpu-per-command", "µs"), (m) => m.cpu, ours, direct),
  );
  const [value, baseline] = [throughput.value, throughput.baseline!];
  console.log(
    `send vs handleCmd: ${Math.round(value).toLocaleString("en-US")} vs ${Math.round(baseline).toLocaleString("en-US")} commands/s (ratio ${(value / baseline).toFixed(3)})`,
  );
}

// 2. Heap per resident entity.

// Large enough that the noise of a heap measurement (a few hundred KB) is a few bytes per entity.
const RESIDENT = quick ? 10_000 : 100_000;

/**
 * The internals `Entity.spawn` is built on, from core's build: spawning entities with one shared config is
 * what the registry does, so holding such entities by hand isolates the registry's own cost per entity.
 * (`Entity.spawn` itself validates and builds a config per entity, which a registry never does.)
 */
interface CoreInternals {
  entityConfig(
    definition: typeof benchCounter,
    options: { evtLog: EvtLog; logger: typeof silentLogger },
  ): unknown;
  spawnWithConfig(id: string, config: unknown): Promise<{ handleCmd(cmd: IncCmd): Promise<unknown> }>;
}
async function coreInternals(): Promise<CoreInternals> {
  const dist = new URL("../../packages/core/dist/", import.meta.url);
  const { entityConfig } = await import(new URL("entity-config.js", dist).href);
  const { spawnWithConfig } = await import(new URL("entity.js", dist).href);
  return { entityConfig, spawnWithConfig };
}

/** Heap per entity that `hold(count)` keeps resident, after a warm-up round (so code and caches are not counted). */
async function heapPerEntity(hold: (count: number) => Promise<() => Promise<void>>): Promise<number> {
  await (await hold(1_000))();
  const before = await settledHeap();
  const release = await hold(RESIDENT);
  const bytes = ((await settledHeap()) - before) / RESIDENT;
  await release();
  return bytes;
}

async function bytesPerResident(): Promise<{ registry: number; byHand: number }> {
  const evtLog = new NullEvtLog();
  const { entityConfig, spawnWithConfig } = await coreInternals();
  const registry = await heapPerEntity(async (count) => {
    // A cap above the count, so that the recency list is maintained as in production.
    const counters = new EntityRegistry(benchCounter, {
      evtLog,
      logger: silentLogger,
      passivation: { maxActive: count * 2 },
    });
    await forEachConcurrently(count, 1_000, (i) => counters.send(`resident-${i}`, INC));
    return () => counters.close();
  });
  const byHand = await heapPerEntity(async (count) => {
    const config = entityConfig(benchCounter, { evtLog, logger: silentLogger });
    const refs: { handleCmd(cmd: IncCmd): Promise<unknown> }[] = [];
    for (let i = 0; i < count; i++) refs.push(await spawnWithConfig(`resident-${i}`, config));
    await Promise.all(refs.map((ref) => ref.handleCmd(INC)));
    return async () => {
      refs.length = 0;
    };
  });
  return { registry, byHand };
}

// 3. A million ids touched once under a cap of 10,000.

const TOUCHED = quick ? 100_000 : 1_000_000;
const MAX_ACTIVE = 10_000;

async function millionIds(residentBytes: number, rows: ResultRow[]): Promise<void> {
  const evtLog = new NullEvtLog();
  const baseline = await settledHeap();
  const registry = new EntityRegistry(benchCounter, {
    evtLog,
    logger: silentLogger,
    passivation: { maxActive: MAX_ACTIVE },
  });
  const start = performance.now();
  await forEachConcurrently(TOUCHED, 1_000, (i) => registry.send(`id-${i}`, INC));
  const seconds = (performance.now() - start) / 1000;
  const { active, passivations } = registry.stats;
  const atEnd = (await settledHeap()) - baseline;
  await registry.close();
  const afterClose = (await settledHeap()) - baseline;
  const bound = MAX_ACTIVE * residentBytes + 16 * 2 ** 20;
  const MB = 2 ** 20;
  const scenario = `${TOUCHED.toLocaleString("en-US")} ids touched once, maxActive ${MAX_ACTIVE.toLocaleString("en-US")}`;
  const common = { scenario, series: "registry", entities: TOUCHED };
  rows.push(
    { ...common, metric: "ids-per-second", value: TOUCHED / seconds, unit: "ids/s" },
    { ...common, metric: "heap-above-baseline-at-end", value: atEnd / MB, unit: "MB", baseline: bound / MB },
    { ...common, metric: "heap-above-baseline-after-close", value: afterClose / MB, unit: "MB" },
  );
  console.log(
    `${scenario}: ${(seconds).toFixed(1)} s, ${active} active and ${passivations.limit} passivated at the end; ` +
      `heap +${(atEnd / MB).toFixed(1)} MB (bound ${(bound / MB).toFixed(1)} MB: ${atEnd <= bound ? "met" : "NOT met"}), ` +
      `after close ${(afterClose / MB).toFixed(2)} MB (bound +-2 MB: ${Math.abs(afterClose) <= 2 * MB ? "met" : "NOT met"})`,
  );
}

// 4. Re-activation on PostgreSQL.

const REACTIVATED = quick ? 100 : 400;
const HISTORY = 100;

async function reactivation(rows: ResultRow[]): Promise<void> {
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  const schema = `bench_registry_${Date.now().toString(36)}`;
  try {
    await admin.query("SELECT 1");
  } catch (error) {
    await admin.end();
    throw postgresUnreachable(error);
  }
  const evtLog = await PostgresEvtLog.create({
    connectionString: DATABASE_URL,
    schema,
    logger: silentLogger,
  });
  const snapshotStore = await PostgresSnapshotStore.create({ connectionString: DATABASE_URL, schema });
  try {
    const bytes = new TextEncoder().encode(JSON.stringify({ by: 1 }));
    const history = Array.from({ length: HISTORY }, () => ({ bytes, contentType: "application/json" }));
    const ids = (kind: string) => Array.from({ length: REACTIVATED }, (_, i) => `${kind}-${i}`);
    const all = [...ids("snap"), ...ids("replay"), ...ids("resident")];
    await forEachConcurrently(all.length, 16, (i) => evtLog.persist("benchCounter", all[i]!, 0, history));

    const withSnapshots = new EntityRegistry(benchCounter, {
      evtLog,
      snapshotStore,
      snapshotOnPassivate: true,
      logger: silentLogger,
    });
    const withoutSnapshots = new EntityRegistry(benchCounter, { evtLog, logger: silentLogger });
    // Snapshot entities move once and are passivated (saving a snapshot); resident ones stay active.
    for (const id of ids("snap")) {
      await withSnapshots.send(id, INC);
      await withSnapshots.passivate(id);
    }
    for (const id of ids("resident")) await withoutSnapshots.send(id, INC);

    const latencies: Record<"snapshot" | "replay" | "resident", number[]> = {
      snapshot: [],
      replay: [],
      resident: [],
    };
    const timed = async (kind: keyof typeof latencies, send: () => Promise<unknown>) => {
      const start = performance.now();
      await send();
      latencies[kind].push(performance.now() - start);
    };
    for (let i = 0; i < REACTIVATED; i++) {
      await timed("snapshot", () => withSnapshots.send(`snap-${i}`, INC));
      await timed("resident", () => withoutSnapshots.send(`resident-${i}`, INC));
      await timed("replay", () => withoutSnapshots.send(`replay-${i}`, INC));
    }
    await withSnapshots.close();
    await withoutSnapshots.close();

    const resident = latencies.resident;
    for (const [kind, label] of [
      ["snapshot", "from its snapshot"],
      ["replay", `replaying ${HISTORY} events`],
    ] as const) {
      const scenario = `re-activation on PostgreSQL, ${label}`;
      for (const [metric, q] of [
        ["p50", 0.5],
        ["p99", 0.99],
      ] as const) {
        const value = quantile(latencies[kind], q);
        const baseline = quantile(resident, q);
        rows.push({
          scenario,
          metric,
          value,
          unit: "ms",
          baseline,
          ratio: baseline / value,
          rounds: REACTIVATED,
          series: "registry",
        });
      }
      console.log(
        `${scenario}: p50 ${quantile(latencies[kind], 0.5).toFixed(2)} ms, p99 ${quantile(latencies[kind], 0.99).toFixed(2)} ms ` +
          `(resident: p50 ${quantile(resident, 0.5).toFixed(2)} ms, p99 ${quantile(resident, 0.99).toFixed(2)} ms)`,
      );
    }
  } finally {
    await snapshotStore.close();
    await evtLog.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

// 5. send against handleCmd on PostgreSQL.

const PG_ENTITIES = 100;
const PG_LOOP = { workers: PG_ENTITIES, durationMs: quick ? 400 : 2_000, warmupMs: quick ? 150 : 400 };

/** What one closed loop on PostgreSQL measured, with the log's mean batch (persists per batch statement). */
type MeasuredOnLog = Measured & { readonly persistsPerBatch: number };

/** Runs `body` on a PostgreSQL log in a fresh schema, dropped afterwards; adds the log's mean batch. */
async function withPostgresLog(
  admin: pg.Pool,
  body: (evtLog: PostgresEvtLog) => Promise<Measured>,
): Promise<MeasuredOnLog> {
  const schema = `bench_registry_pg_${Date.now().toString(36)}_${process.pid.toString(36)}`;
  const evtLog = await PostgresEvtLog.create({
    connectionString: DATABASE_URL,
    schema,
    logger: silentLogger,
  });
  try {
    const measured = await body(evtLog);
    const { persists, batches } = evtLog.stats;
    return { ...measured, persistsPerBatch: persists / Math.max(1, batches) };
  } finally {
    await evtLog.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

async function sendVsHandleCmdOnPostgres(rows: ResultRow[]): Promise<void> {
  const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    await admin.query("SELECT 1");
  } catch (error) {
    await admin.end();
    throw postgresUnreachable(error);
  }
  try {
    const viaRegistry = () =>
      withPostgresLog(admin, async (evtLog) => {
        const registry = new EntityRegistry(counter, { evtLog, logger: silentLogger });
        try {
          return await closedLoop(PG_LOOP, (i) => registry.send(`c-${i}`, { inc: 1 }));
        } finally {
          await registry.close();
        }
      });
    const viaRefs = () => withPostgresLog(admin, (evtLog) => driveCounters(evtLog, PG_LOOP));
    const results = await rotateRounds<"registry" | "refs", MeasuredOnLog>(quick ? 1 : 3, {
      registry: viaRegistry,
      refs: viaRefs,
    });
    const [ours, direct] = [results.get("registry")!, results.get("refs")!];
    const fields = (metric: string, unit: string) => ({
      scenario: "registry.send vs ref.handleCmd on PostgreSQL",
      metric,
      unit,
      series: "registry",
      entities: PG_ENTITIES,
    });
    const throughput = comparisonRow(fields("throughput", "commands/s"), (m) => m.perSecond, ours, direct);
    const p99 = comparisonRow(fields("p99", "ms"), (m) => m.p99Ms, ours, direct);
    // The mean batch is what ADR 0126 changed (50 -> 100 for lazily recovered entities); it depends on the
    // committer's scheduling, not on the machine's speed, so it shows a regression the noisy rows may hide.
    const batch = comparisonRow(
      fields("persists-per-batch", "persists"),
      (m) => m.persistsPerBatch,
      ours,
      direct,
    );
    rows.push(throughput, p99, batch);
    console.log(
      `send vs handleCmd on PostgreSQL, ${PG_ENTITIES} entities: ${Math.round(throughput.value).toLocaleString("en-US")} vs ` +
        `${Math.round(throughput.baseline!).toLocaleString("en-US")} commands/s (ratio ${throughput.ratio!.toFixed(3)}), ` +
        `p99 ${p99.value.toFixed(2)} vs ${p99.baseline!.toFixed(2)} ms, ${batch.value.toFixed(1)} vs ${batch.baseline!.toFixed(1)} persists per batch`,
    );
  } finally {
    await admin.end();
  }
}

async function main(): Promise<void> {
  if (gc === undefined) throw new Error("run with node --expose-gc (npm run bench:registry does)");
  console.log(`registry benchmark (${quick ? "quick" : "full"})`);
  const rows: ResultRow[] = [];
  await sendVsHandleCmd(rows);

  const resident = await bytesPerResident();
  rows.push(
    {
      scenario: `heap per resident entity (${RESIDENT.toLocaleString("en-US")} counters)`,
      metric: "bytes-per-entity",
      value: resident.registry,
      unit: "B",
      baseline: resident.byHand,
      series: "registry",
      entities: RESIDENT,
    },
    {
      scenario: `heap per resident entity (${RESIDENT.toLocaleString("en-US")} counters)`,
      metric: "registry-overhead-per-entity",
      value: resident.registry - resident.byHand,
      unit: "B",
      series: "registry",
      entities: RESIDENT,
    },
  );
  console.log(
    `heap per resident counter: ${Math.round(resident.registry)} B through the registry, ` +
      `${Math.round(resident.byHand)} B spawned by hand with a shared config and held in an array ` +
      `(registry overhead ${Math.round(resident.registry - resident.byHand)} B; the state is a small integer stored in the actor)`,
  );

  await millionIds(resident.registry, rows);
  await reactivation(rows);
  await sendVsHandleCmdOnPostgres(rows);
  writeResults("registry", rows, machineFacts());
}

await main();
