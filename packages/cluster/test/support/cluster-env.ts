import {
  ClusterNode,
  type ClusterNodeOptions,
  NatsClusterStore,
  rendezvousOwner,
} from "@eventsourced/cluster";
import {
  defineEntity,
  type EvtLog,
  emitAndReply,
  jsonFromBytes,
  type ProtocolOf,
  reply,
  silentLogger,
} from "@eventsourced/core";
import { uniqueTypeName } from "@eventsourced/core/testing";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { NatsLeaseStore } from "@eventsourced/leases/nats";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  connectTestNats,
  deleteStream,
  uniqueName,
} from "../../../evtlog-nats/test/support/nats-test-env.js";
import {
  DATABASE_URL,
  dropSchema,
  uniqueSchemaName,
} from "../../../evtlog-postgres/test/pg-test-database.js";

export type CounterCmd = { readonly type: "inc"; readonly by: number } | { readonly type: "get" };
export type CounterEvt = { readonly type: "increased"; readonly by: number };

/** A counter entity of its own type name, so every test has its own subjects, leases and members. */
export function counterOf(typeName: string) {
  return defineEntity<number, CounterCmd, CounterEvt, number, never>({
    typeName,
    initialState: () => 0,
    handleCmd: (state, cmd) =>
      cmd.type === "inc"
        ? emitAndReply<number, CounterEvt, number>([{ type: "increased", by: cmd.by }], (s) => s)
        : reply(state),
    handleEvt: (state, evt) => state + evt.by,
  });
}

export type Counter = ReturnType<typeof counterOf>;

/** The events of a counter as stored. */
export async function increments(log: EvtLog, type: string, id: string): Promise<number[]> {
  const out: number[] = [];
  for await (const record of log.evtsById(type, id, { from: 1 })) {
    out.push(jsonFromBytes<CounterEvt>(record.bytes).by);
  }
  return out;
}

/** One cluster under test: a NATS connection, a lease bucket, a cluster store, a fresh type name. */
export class ClusterEnv {
  readonly typeName = uniqueTypeName("cl");
  readonly cluster = uniqueName("c").replace(/[^A-Za-z0-9_-]/g, "_");
  readonly entity: Counter = counterOf(this.typeName);
  readonly nodes: ClusterNode<number, CounterEvt, ProtocolOf<Counter>>[] = [];
  nc!: NatsConnection;
  leaseStore!: NatsLeaseStore;
  store!: NatsClusterStore;
  readonly #buckets: string[] = [];
  readonly #prefix = uniqueName("clt");

  constructor(readonly ttlMs = 2_000) {}

  async setup(): Promise<this> {
    this.nc = await connectTestNats();
    const bucket = uniqueName("cl_leases");
    this.#buckets.push(bucket);
    this.leaseStore = await NatsLeaseStore.create({ connection: this.nc, bucket, ttlMs: this.ttlMs });
    this.store = await NatsClusterStore.create(this.nc, { memberTtlMs: 3_000, bucketPrefix: this.#prefix });
    this.#buckets.push(`${this.#prefix}-config`, `${this.#prefix}-members-3000ms`);
    return this;
  }

  /** A node of this cluster (not started). */
  node(
    evtLog: EvtLog,
    options: Partial<ClusterNodeOptions<number, CounterEvt>> = {},
  ): ClusterNode<number, CounterEvt, ProtocolOf<Counter>> {
    const node = new ClusterNode(this.entity, {
      cluster: this.cluster,
      nats: this.nc,
      leaseStore: this.leaseStore,
      store: this.store,
      shardCount: 16,
      rebalanceEveryMs: 200,
      logger: silentLogger,
      ...options,
      registry: { evtLog, logger: silentLogger, ...options.registry },
    });
    this.nodes.push(node);
    return node;
  }

  async teardown(): Promise<void> {
    await Promise.allSettled(this.nodes.map((node) => node.stop()));
    await this.leaseStore?.close();
    for (const bucket of this.#buckets) await deleteStream(this.nc, `KV_${bucket}`);
    await this.nc?.close();
  }
}

/**
 * `count` node ids under which rendezvous hashing gives every node at least one of the `shardCount` shards
 * of `typeName`. With random ids one node now and then gets none (two nodes and 8 shards: one run in 128),
 * and a test that waits for every node to hold a shard then waits forever.
 */
export function sharingNodeIds(typeName: string, shardCount: number, count: number): string[] {
  for (let attempt = 0; ; attempt++) {
    const ids = Array.from({ length: count }, (_, i) => `node${i}-${attempt}`);
    const owners = new Set(
      Array.from({ length: shardCount }, (_, shard) => rendezvousOwner(ids, typeName, shard)),
    );
    if (owners.size === count) return ids;
  }
}

/** Polls `check` until it returns true; fails after `timeoutMs` (a liveness bound, not a timing assertion). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A PostgreSQL log in a schema of its own (a pool of 3), and how to drop it. */
export async function postgresLog(): Promise<{ log: PostgresEvtLog; drop: () => Promise<void> }> {
  const schema = uniqueSchemaName("cluster");
  const log = await PostgresEvtLog.create({
    connectionString: DATABASE_URL,
    schema,
    maxConnections: 3,
    logger: silentLogger,
  });
  return {
    log,
    drop: async () => {
      await log.close();
      await dropSchema(schema);
    },
  };
}
