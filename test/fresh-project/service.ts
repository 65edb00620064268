// A new user's service, run by scripts/check-fresh-project.mjs in a temporary project that installed this
// repository's packed tarballs (after main.ts): an EntityRegistry over a PostgreSQL log, an exactly-once
// projection into a PostgreSQL table, the OpenTelemetry instrumentation without an SDK, a health check, a
// single ClusterNode owning every shard that routes a command over NATS, and the `eventsourced` bin of the
// installed CLI. Runs against the real servers (DATABASE_URL, NATS_URL) in a schema and a cluster name of
// its own, removed at the end.
import { strict as assert } from "node:assert";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync, realpathSync } from "node:fs";
import { promisify } from "node:util";
import { ClusterClient, ClusterNode, NatsTransport } from "@eventsourced/cluster";
import { PostgresClusterStore } from "@eventsourced/cluster/postgres";
import { createHealthCheck, EntityRegistry, jsonBinarizer } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import { OpenTelemetryInstrumentation } from "@eventsourced/opentelemetry";
import { Projection } from "@eventsourced/projections";
import { exactlyOnce, PostgresProjectionStore } from "@eventsourced/projections/postgres";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { account } from "../readme-quickstart.js";

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const unique = randomUUID().replaceAll("-", "").slice(0, 12);
const schema = `fresh_service_${unique}`;
const cluster = `fresh-service-${unique}`;
const SHARDS = 8;

type AccountEvt = { type: "deposited"; amount: number } | { type: "withdrawn"; amount: number };

/** Polls `condition` every 50 ms until it holds; fails after `ms` (a liveness bound, not a timing check). */
async function eventually(what: string, condition: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Runs the installed bin through npx (never a download: --no-install) and returns its stdout; exit statuses
 * other than `allowed` (default only 0) reject.
 */
async function eventsourced(args: string[], allowed: readonly number[] = [0]): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)("npx", ["--no-install", "eventsourced", ...args], {
      timeout: 30_000,
    });
    return stdout;
  } catch (error) {
    const { code, stdout } = error as { code?: unknown; stdout?: string };
    if (typeof code === "number" && allowed.includes(code) && stdout !== undefined) return stdout;
    throw error;
  }
}

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
const cleanups: (() => Promise<unknown>)[] = [];
try {
  await pool.query(`CREATE SCHEMA "${schema}"`);
  cleanups.push(() => pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));

  // Leases first: the log checks a shard's lease row in each fenced persist (strict fencing).
  const leaseStore = await PostgresLeaseStore.create({
    connectionString: DATABASE_URL,
    schema,
    ttlMs: 5_000,
  });
  cleanups.unshift(() => leaseStore.close());
  const evtLog = await PostgresEvtLog.create({
    connectionString: DATABASE_URL,
    schema,
    maxConnections: 3,
    fencing: { leaseTable: leaseStore.table },
  });
  cleanups.unshift(() => evtLog.close());

  // The OpenTelemetry instrumentation without an SDK: no provider registered, so it records nothing.
  const otel = new OpenTelemetryInstrumentation();
  const accounts = new EntityRegistry(account, { evtLog, instrumentation: otel });
  cleanups.unshift(() => accounts.close());
  otel.observeRegistry(accounts);

  const balances = `"${schema}".balances`;
  await pool.query(`CREATE TABLE ${balances} (id text PRIMARY KEY, balance bigint NOT NULL)`);
  const store = await PostgresProjectionStore.create({ pool, schema });
  const projection = Projection.create({
    name: "account-balances",
    evtLog,
    type: account.typeName,
    binarizer: jsonBinarizer<AccountEvt, unknown>(),
    instrumentation: otel,
    handler: exactlyOnce<AccountEvt>(store, {
      handle: async (evts, tx) => {
        for (const e of evts) {
          const delta = e.evt.type === "deposited" ? e.evt.amount : -e.evt.amount;
          await tx.query(
            `INSERT INTO ${balances} AS b VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET balance = b.balance + $2`,
            [e.id, delta],
          );
        }
      },
      reset: async (tx) => {
        await tx.query(`TRUNCATE ${balances}`);
      },
    }),
  });
  cleanups.unshift(() => projection.stop());
  otel.observeProjection(projection);

  // Commands through the registry; the projection catches up with them.
  assert.equal((await accounts.send("a-1", { type: "deposit", amount: 100 })).kind, "accepted");
  const withdrawn = await accounts.send("a-1", { type: "withdraw", amount: 30 });
  assert.deepEqual([withdrawn.kind, withdrawn.kind === "accepted" && withdrawn.reply], ["accepted", 70]);
  const overdrawn = await accounts.send("a-2", { type: "withdraw", amount: 1 });
  assert.deepEqual(
    [overdrawn.kind, overdrawn.kind === "rejected" && overdrawn.rejection],
    ["rejected", "insufficient-funds"],
  );
  projection.start();
  await projection.whenCaughtUp(AbortSignal.timeout(30_000));
  const { rows } = await pool.query(`SELECT id, balance::int AS balance FROM ${balances} ORDER BY id`);
  assert.deepEqual(rows, [{ id: "a-1", balance: 70 }]);

  const health = await createHealthCheck({
    evtLogs: [{ name: "postgres", evtLog }],
    projections: [projection],
  }).check();
  assert.equal(health.ready, true, JSON.stringify(health));

  // One ClusterNode owns every shard (its own commands are handled in-process).
  const nats = await connect({ servers: NATS_URL });
  cleanups.unshift(() => nats.close());
  const clusterStore = await PostgresClusterStore.create({ connectionString: DATABASE_URL, schema });
  cleanups.unshift(() => clusterStore.close());
  const node = new ClusterNode(account, {
    cluster,
    shardCount: SHARDS,
    transport: new NatsTransport(nats),
    store: clusterStore,
    leaseStore,
    registry: { evtLog },
  });
  await node.start();
  cleanups.unshift(() => node.stop());
  await eventually("the single node owns every shard", () => node.shards.length === SHARDS);
  const routed = await node.send(
    "a-3",
    { type: "deposit", amount: 5 },
    { commandId: "req-1", timeoutMs: 10_000 },
  );
  assert.equal(routed.kind, "accepted");
  const again = await node.send(
    "a-3",
    { type: "deposit", amount: 5 },
    { commandId: "req-1", timeoutMs: 10_000 },
  );
  assert.equal(again.kind, "duplicate");
  // A process hosting no entities (a gateway) reaches the owner over NATS request/reply.
  const gateway = new ClusterClient({ typeName: account.typeName, cluster, shardCount: SHARDS, nats });
  const balance = await gateway.send("a-3", { type: "balance" }, { timeoutMs: 10_000 });
  assert.deepEqual([balance.kind, balance.kind === "accepted" && balance.reply], ["accepted", 5]);

  // The CLI's bin, as installed from its tarball.
  assert.match(
    realpathSync("node_modules/.bin/eventsourced"),
    /node_modules\/@eventsourced\/cli\/dist\/bin\.js$/,
  );
  assert.match(await eventsourced(["--help"]), /schema status/);
  const cli = JSON.parse(readFileSync("node_modules/@eventsourced/cli/package.json", "utf8")) as {
    version: string;
  };
  assert.equal((await eventsourced(["--version"])).trim(), cli.version);
  // Exit 1: the service uses no snapshot store, so that table is missing and the schema not up to date.
  const status = JSON.parse(
    await eventsourced(["schema", "status", "--url", DATABASE_URL, "--schema", schema, "--json"], [1]),
  ) as { where: string; components: { component: string; state: string }[] };
  assert.match(status.where, new RegExp(`schema ${schema}`));
  const states = Object.fromEntries(status.components.map((c) => [c.component, c.state]));
  assert.equal(states["evtlog:events"], "up-to-date");
  assert.equal(states["projections:projections"], "up-to-date");
  assert.equal(states["snapshots:snapshots"], "missing");

  console.log(
    "fresh project: a new user's service (registry, exactly-once projection, OpenTelemetry without an SDK, " +
      `health, a cluster node owning ${SHARDS} shards over NATS, the eventsourced bin): ok`,
  );
} finally {
  for (const cleanup of cleanups) await cleanup().catch((err: unknown) => console.error("cleanup:", err));
  await pool.end();
}
