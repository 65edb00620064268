import { type ClusterStore, NatsClusterStore, SHARD_HASH } from "@eventsourced/cluster";
import { PostgresClusterStore } from "@eventsourced/cluster/postgres";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestNats, NATS_URL, uniqueName } from "../../projections/test/support/nats-env.js";
import {
  DATABASE_URL,
  dropSchema,
  namedPool,
  uniqueSchemaName,
} from "../../projections/test/support/pg-env.js";
import { assertBuilt, runCli, runJson } from "./support/cli-process.js";

interface Shown {
  readonly cluster: string;
  readonly shardFunction: {
    value: unknown;
    config?: { shardCount: number; hash: string };
    problem?: string;
  } | null;
  readonly members: Array<{ type: string; member: string }>;
}

/**
 * The same walk on both stores: a cluster recorded with 8 shards and one live member; `forget` is refused
 * while the member lives (nothing changes), works once it left, and a process may then record another
 * shard count.
 */
async function forgetWalk(
  store: ClusterStore,
  cli: (args: string[]) => Promise<Shown & { forgotten?: boolean }>,
  raw: (args: string[]) => ReturnType<typeof runCli>,
) {
  const cluster = `c${Date.now().toString(36)}`;
  await store.recordShardConfig(cluster, { shardCount: 8, hash: SHARD_HASH });
  await store.heartbeat(cluster, "acct", "node-a");
  await store.heartbeat(cluster, "user.v2", "node-b");

  const shown = await cli(["cluster", "show", cluster]);
  expect(shown.shardFunction?.config).toEqual({ shardCount: 8, hash: SHARD_HASH });
  expect(shown.members).toEqual([
    { type: "acct", member: "node-a" },
    { type: "user.v2", member: "node-b" },
  ]);
  const text = await raw(["cluster", "show", cluster]);
  expect(text.stdout).toContain(`shard function: 8 shards hashed by ${SHARD_HASH}`);
  // Where it read names the server, not "the pool passed in".
  expect(text.stdout).not.toContain("pool passed in");

  const unconfirmed = await raw(["cluster", "forget-shard-function", cluster]);
  expect(unconfirmed.code).toBe(2);
  const refused = await raw(["cluster", "forget-shard-function", cluster, "--yes"]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("2 live members: node-a (acct), node-b (user.v2)");
  expect(await store.recordShardConfig(cluster, { shardCount: 16, hash: SHARD_HASH })).toEqual({
    shardCount: 8,
    hash: SHARD_HASH,
  });

  await store.leave(cluster, "acct", "node-a");
  await store.leave(cluster, "user.v2", "node-b");
  const forgot = await cli(["cluster", "forget-shard-function", cluster, "--yes"]);
  expect(forgot.forgotten).toBe(true);
  expect((await cli(["cluster", "show", cluster])).shardFunction).toBeNull();
  const again = await cli(["cluster", "forget-shard-function", cluster, "--yes"]);
  expect(again.forgotten).toBe(false);
  // The next process records its own.
  expect(await store.recordShardConfig(cluster, { shardCount: 16, hash: SHARD_HASH })).toEqual({
    shardCount: 16,
    hash: SHARD_HASH,
  });
  expect((await cli(["cluster", "show", cluster])).shardFunction?.config?.shardCount).toBe(16);
}

describe("eventsourced cluster on PostgreSQL", { timeout: 60_000 }, () => {
  const schema = uniqueSchemaName("cli_cluster");
  const db = ["--url", DATABASE_URL, "--schema", schema];
  let pool: pg.Pool;
  let store: PostgresClusterStore;

  beforeAll(async () => {
    assertBuilt();
    pool = await namedPool(`cli-${schema}`, 2);
    // A long member TTL: the walk's members must stay live however slowly a loaded machine runs it.
    store = await PostgresClusterStore.create({ pool, schema, memberTtlMs: 60_000 });
  });
  afterAll(async () => {
    await store?.close();
    await dropSchema(schema);
    await pool?.end();
  });

  it("shows the record and the members; forgets the record only with no member live", async () => {
    await forgetWalk(
      store,
      (args) => runJson([...args, ...db, "--json"]),
      (args) => runCli([...args, ...db]),
    );
  });

  it("a schema without the cluster tables has no record and no member, and gets none", async () => {
    const empty = uniqueSchemaName("cli_cluster_none");
    const shown = await runJson<Shown>([
      "cluster",
      "show",
      "c1",
      "--url",
      DATABASE_URL,
      "--schema",
      empty,
      "--json",
    ]);
    expect(shown).toEqual({ cluster: "c1", shardFunction: null, members: [] });
    const exists = await pool.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [empty]);
    expect(exists.rowCount).toBe(0);
  });

  it("refuses a cluster name or bucket prefix a cluster cannot have (exit 2)", async () => {
    const run = await runCli(["cluster", "show", "a.b", ...db]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("<cluster> must be 1 to 64 letters");
    const prefix = await runCli(["cluster", "show", "c1", "--url", NATS_URL, "--bucket-prefix", "a.>"]);
    expect(prefix.code).toBe(2);
    expect(prefix.stderr).toContain("--bucket-prefix must be 1 to 64 letters");
  });
});

describe("eventsourced cluster on NATS", { timeout: 60_000 }, () => {
  const prefix = uniqueName("cli-cluster");
  const nats = ["--url", NATS_URL, "--bucket-prefix", prefix];
  let nc: NatsConnection;
  let store: NatsClusterStore;

  beforeAll(async () => {
    assertBuilt();
    nc = await connectTestNats();
    store = await NatsClusterStore.create(nc, { bucketPrefix: prefix, memberTtlMs: 60_000 });
  });
  afterAll(async () => {
    const kvm = new Kvm(nc);
    for (const bucket of [`${prefix}-config`, `${prefix}-members-60000ms`, `${prefix}-members-30000ms`]) {
      await (await kvm.open(bucket)).destroy().catch(() => {});
    }
    await nc?.close();
  });

  it("shows the record and the members; forgets the record only with no member live", async () => {
    await forgetWalk(
      store,
      (args) => runJson([...args, ...nats, "--json"]),
      (args) => runCli([...args, ...nats]),
    );
  });

  it("reads the members of every member TTL", async () => {
    // Long enough that the member is still live once the CLI process (seconds on a loaded machine) reads it.
    const other = await NatsClusterStore.create(nc, { bucketPrefix: prefix, memberTtlMs: 30_000 });
    await other.heartbeat("ttls", "acct", "short");
    await store.heartbeat("ttls", "acct", "long");
    const shown = await runJson<Shown>(["cluster", "show", "ttls", ...nats, "--json"]);
    expect(shown.members).toEqual([
      { type: "acct", member: "long" },
      { type: "acct", member: "short" },
    ]);
  });

  it("shows a malformed record as such and can forget it, after which a process starts", async () => {
    const kv = await new Kvm(nc).open(`${prefix}-config`);
    await kv.put("broken.shard-function", new TextEncoder().encode('{"shardCount": "eight"'));
    await expect(
      store.recordShardConfig("broken", { shardCount: 8, hash: SHARD_HASH }),
    ).rejects.toMatchObject({
      code: "CONFIGURATION_INVALID",
    });
    const shown = await runJson<Shown>(["cluster", "show", "broken", ...nats, "--json"]);
    expect(shown.shardFunction?.config).toBeUndefined();
    expect(shown.shardFunction?.problem).toContain("not JSON");
    const text = await runCli(["cluster", "show", "broken", ...nats]);
    expect(text.stdout).toContain("shard function: malformed");
    await runJson(["cluster", "forget-shard-function", "broken", "--yes", ...nats, "--json"]);
    expect(await store.recordShardConfig("broken", { shardCount: 8, hash: SHARD_HASH })).toEqual({
      shardCount: 8,
      hash: SHARD_HASH,
    });
  });

  it("buckets that do not exist give no record and no member, and are not created", async () => {
    const none = uniqueName("cli-cluster-none");
    const shown = await runJson<Shown>([
      "cluster",
      "show",
      "c1",
      "--url",
      NATS_URL,
      "--bucket-prefix",
      none,
      "--json",
    ]);
    expect(shown).toEqual({ cluster: "c1", shardFunction: null, members: [] });
    const names: string[] = [];
    const jsm = await (await import("@nats-io/jetstream")).jetstreamManager(nc);
    for await (const name of jsm.streams.names()) names.push(name);
    expect(names.filter((n) => n.includes(none))).toEqual([]);
  });
});
