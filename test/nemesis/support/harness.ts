import { ClusterClient, NatsClusterStore } from "@eventsourced/cluster";
import type { EvtLog } from "@eventsourced/core";
import { silentLogger } from "@eventsourced/core";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  DATABASE_URL,
  dropSchema,
  uniqueSchemaName,
} from "../../../packages/evtlog-postgres/test/pg-test-database.js";
import { NatsServerProcess } from "../../support/nats-server-process.js";
import {
  currentOwners,
  exactlyOnceViolations,
  overlapViolations,
  readRun,
  type StoredEvt,
  supersededEpochViolations,
} from "./checks.js";
import { ClusterProcess, type NodeConfig, RunRecord } from "./cluster-process.js";
import { Workload } from "./workload.js";

/** How big a run is: the bounded form by default, the full scale with NEMESIS_SCALE=full. */
export interface Scale {
  readonly nodes: number;
  readonly shardCount: number;
  readonly entities: number;
  readonly concurrency: number;
  readonly ratePerSec: number;
  /** How long the workload runs under each nemesis (at least; a nemesis may need longer). */
  readonly seconds: number;
  readonly ttlMs: number;
  readonly pollMs: number;
  readonly commandTimeoutMs: number;
  /** Interval of the kill -9 nemesis. */
  readonly killEveryMs: number;
}

export function scale(): Scale {
  const full = process.env.NEMESIS_SCALE === "full";
  const seconds = Number(process.env.NEMESIS_SECONDS ?? (full ? 60 : 3));
  return full
    ? {
        nodes: 3,
        shardCount: 64,
        entities: 10_000,
        concurrency: 200,
        ratePerSec: 2_000,
        seconds,
        ttlMs: 5_000,
        pollMs: 500,
        commandTimeoutMs: 20_000,
        killEveryMs: 10_000,
      }
    : {
        nodes: 3,
        shardCount: 64,
        entities: 300,
        concurrency: 12,
        ratePerSec: 150,
        seconds,
        ttlMs: 2_000,
        pollMs: 250,
        commandTimeoutMs: 15_000,
        killEveryMs: seconds * 1000,
      };
}

/** Everything a run found; the test asserts on it and prints it. */
export interface RunReport {
  readonly name: string;
  readonly durationMs: number;
  readonly tally: Workload["tally"];
  readonly events: number;
  readonly exactlyOnce: string[];
  readonly foldMismatches: string[];
  readonly overlaps: string[];
  readonly supersededEpochs: string[];
  readonly conflicts: number;
  readonly ownershipLost: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One cluster of child processes on a private nats-server and a schema of its own. */
export class Harness {
  readonly scale = scale();
  readonly record = new RunRecord();
  readonly processes: (ClusterProcess | undefined)[] = [];
  readonly config: NodeConfig;
  readonly entities: string[];
  nc!: NatsConnection;
  client!: ClusterClient;
  workload!: Workload;
  readonly #incarnations: number[] = [];
  #started = 0;

  private constructor(
    readonly name: string,
    readonly nats: NatsServerProcess,
    strict: boolean,
    backend: "postgres" | "nats",
    logServed: boolean,
  ) {
    const tag = Math.random().toString(36).slice(2, 8);
    this.config = {
      natsUrl: nats.url,
      databaseUrl: DATABASE_URL,
      schema: uniqueSchemaName(`nm_${name}`),
      cluster: `nemesis-${tag}`,
      typeName: `tally_${tag}`,
      bucketPrefix: `nemesis-${tag}`,
      shardCount: this.scale.shardCount,
      ttlMs: this.scale.ttlMs,
      pollMs: this.scale.pollMs,
      // A dead member leaves the assignment after about one lease TTL, like its leases.
      memberTtlMs: Math.max(1_000, this.scale.ttlMs),
      rebalanceEveryMs: 250,
      minMembers: this.scale.nodes,
      strict,
      backend,
      stream: `events_${tag}`,
      logServed,
    };
    this.entities = Array.from({ length: this.scale.entities }, (_, i) => `e-${i}`);
  }

  /** Starts a private nats-server and the nodes, and waits until every shard has an owner. */
  static async start(
    name: string,
    options: { strict?: boolean; backend?: "postgres" | "nats"; logServed?: boolean } = {},
  ): Promise<Harness> {
    const nats = await NatsServerProcess.start(["-js"]);
    const h = new Harness(
      name,
      nats,
      options.strict ?? true,
      options.backend ?? "postgres",
      options.logServed ?? false,
    );
    h.nc = await connect({
      servers: nats.url,
      name: "nemesis-clients",
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    h.client = new ClusterClient({
      typeName: h.config.typeName,
      cluster: h.config.cluster,
      shardCount: h.config.shardCount,
      nats: h.nc,
      store: await NatsClusterStore.create(h.nc, {
        memberTtlMs: h.config.memberTtlMs,
        bucketPrefix: h.config.bucketPrefix,
      }),
      retry: { attemptTimeoutMs: 1_000 },
    });
    h.workload = new Workload(h.client, {
      entities: h.entities,
      concurrency: h.scale.concurrency,
      ratePerSec: h.scale.ratePerSec,
      commandTimeoutMs: h.scale.commandTimeoutMs,
    });
    await Promise.all(Array.from({ length: h.scale.nodes }, (_, slot) => h.spawn(slot)));
    await h.allShardsOwned();
    return h;
  }

  /** Starts a new incarnation of node `slot` (after a kill). */
  async spawn(slot: number): Promise<ClusterProcess> {
    this.#incarnations[slot] = (this.#incarnations[slot] ?? 0) + 1;
    const proc = new ClusterProcess(`n${slot}-${this.#incarnations[slot]}`, this.config, this.record);
    this.processes[slot] = proc;
    await proc.ready;
    return proc;
  }

  /** Waits (liveness bound) until every shard is owned by a live incarnation. */
  async allShardsOwned(timeoutMs = 90_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const live = new Set(this.processes.filter((p) => p?.alive).map((p) => p!.nodeId));
      const owners = currentOwners(this.record.shardEvents, this.config.shardCount);
      if (owners.every((o) => o !== undefined && live.has(o))) return;
      if (Date.now() > until) {
        throw new Error(
          `not every shard owned after ${timeoutMs} ms: ${owners.filter((o) => o === undefined).length} free`,
        );
      }
      await sleep(100);
    }
  }

  /** Runs the workload while `nemesis` does its damage (at least `scale.seconds`), then heals the cluster. */
  async run(nemesis: (h: Harness) => Promise<void>): Promise<void> {
    this.#started = Date.now();
    this.workload.start();
    await Promise.all([nemesis(this), sleep(this.scale.seconds * 1000)]);
    await this.heal();
    await this.workload.stop();
  }

  /** Resumes paused nodes, restarts dead ones, waits until every shard is owned again. */
  async heal(): Promise<void> {
    for (const p of this.processes) p?.resume();
    for (let slot = 0; slot < this.scale.nodes; slot++) {
      if (!this.processes[slot]?.alive) await this.spawn(slot);
    }
    await this.allShardsOwned();
  }

  /** A random live node's slot. */
  randomSlot(): number {
    const live = this.processes.flatMap((p, slot) => (p?.alive ? [slot] : []));
    return live[Math.floor(Math.random() * live.length)]!;
  }

  /** Checks the invariants: reads the log, compares every entity's state with the fold of its events. */
  async finish(): Promise<RunReport> {
    const log: EvtLog & { close(): Promise<void> } =
      this.config.backend === "nats"
        ? await NatsEvtLog.connect({
            connection: this.nc,
            stream: { name: this.config.stream, subjectPrefix: this.config.stream },
            logger: silentLogger,
          })
        : await PostgresEvtLog.create({
            connectionString: DATABASE_URL,
            schema: this.config.schema,
            maxConnections: 2,
            logger: silentLogger,
            setup: false,
          });
    let events: StoredEvt[];
    try {
      events = await readRun(log, this.config.typeName);
    } finally {
      await log.close();
    }
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
    const foldMismatches: string[] = [];
    // Recovered state = fold of the log: every entity asked through the cluster, a few at a time.
    const sample =
      this.entities.length <= 2_000 ? this.entities : this.entities.filter((_, i) => i % 5 === 0);
    for (let i = 0; i < sample.length; i += 50) {
      await Promise.all(
        sample.slice(i, i + 50).map(async (id) => {
          const result = await this.client.send(id, { type: "get" }, { timeoutMs: 30_000 });
          const count = result.kind === "accepted" ? (result.reply as number) : -1;
          if (count !== (counts.get(id) ?? 0))
            foldMismatches.push(`${id}: state ${count}, log ${counts.get(id) ?? 0}`);
        }),
      );
    }
    await Promise.all(this.processes.map((p) => p?.terminate()));
    let conflicts = 0;
    let ownershipLost = 0;
    for (const s of this.record.stats.values()) {
      conflicts += s.conflicts;
      ownershipLost += s.ownershipLost;
    }
    return {
      name: this.name,
      durationMs: Date.now() - this.#started,
      tally: this.workload.tally,
      events: events.length,
      exactlyOnce: exactlyOnceViolations(events, this.workload),
      foldMismatches,
      overlaps: overlapViolations(this.record),
      supersededEpochs: this.config.strict ? supersededEpochViolations(events, this.record) : [],
      conflicts,
      ownershipLost,
    };
  }

  /** Kills what is left and removes the server, its store and the schema. */
  async cleanup(): Promise<void> {
    this.client?.stop();
    await Promise.all(this.processes.map((p) => p?.kill9()));
    await this.nc?.close().catch(() => {});
    await this.nats.stop();
    await dropSchema(this.config.schema);
  }
}

/** One line per run, for the CI log and the report. */
export function summary(report: RunReport, extra: Record<string, unknown> = {}): string {
  const { tally } = report;
  return JSON.stringify({
    nemesis: report.name,
    seconds: Math.round(report.durationMs / 100) / 10,
    sent: tally.sent,
    acked: tally.acked,
    unknown: tally.unknown,
    cmdPerSec: Math.round(tally.sent / (report.durationMs / 1000)),
    events: report.events,
    reads: tally.reads,
    staleReads: tally.staleReads,
    wrongRejections: tally.wrongRejections,
    conflicts: report.conflicts,
    ownershipLost: report.ownershipLost,
    errors: Object.fromEntries(tally.errors),
    ...extra,
  });
}
