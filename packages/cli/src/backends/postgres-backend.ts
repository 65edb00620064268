import { ConfigurationError, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import {
  LOG_SCHEMA_VERSION,
  quoteIdentifier,
  sqlState,
  versionTable,
} from "@eventsourced/evtlog-postgres/internal";
import { PostgresProjectionStore, PROJECTION_SCHEMA_VERSION } from "@eventsourced/projections/postgres";
import { PostgresSnapshotStore, SNAPSHOT_SCHEMA_VERSION } from "@eventsourced/snapshots/postgres";
import pg from "pg";
import type { CliConfig } from "../cli-config.js";
import { AdminCommandError } from "../cli-errors.js";
import { redactUrl } from "../config/redact-url.js";
import { serverUnreachableError } from "../config/server-unreachable.js";
import {
  type AdminBackend,
  type AdminClusterStore,
  type AdminSnapshotStore,
  componentState,
  importCluster,
  type ListingEvtLog,
  type ListingProjectionStore,
  type SchemaComponent,
} from "./admin-backend.js";

const HINT =
  "start it (e.g. `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`) or give a reachable server with --url, DATABASE_URL or APP__EVT_LOG__POSTGRES__URL";

/** Opens a pool of two connections and checks the server answers. */
export async function openPostgresBackend(config: CliConfig): Promise<AdminBackend> {
  const { url, schema } = config.evtLog.postgres;
  if (url === "") {
    throw new ConfigurationError(
      "config key evtLog.postgres.url is empty (the embedded database): the CLI needs a PostgreSQL server URL (--url, DATABASE_URL or APP__EVT_LOG__POSTGRES__URL)",
      "evtLog.postgres.url",
      "default",
    );
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 2,
    connectionTimeoutMillis: 10_000,
    application_name: "eventsourced-cli",
  });
  pool.on("error", () => {});
  try {
    await pool.query("SELECT 1");
  } catch (error) {
    await pool.end().catch(() => {});
    throw serverUnreachableError({ server: "PostgreSQL", url, error, hint: HINT });
  }
  return new PostgresBackend(pool, `PostgreSQL at ${redactUrl(url)}, schema ${schema}`, config);
}

class PostgresBackend implements AdminBackend {
  readonly where: string;
  readonly #pool: pg.Pool;
  readonly #schema: string;
  readonly #table: string;
  readonly #closers: Array<() => Promise<void>> = [];

  constructor(pool: pg.Pool, where: string, config: CliConfig) {
    this.#pool = pool;
    this.where = where;
    this.#schema = config.evtLog.postgres.schema;
    this.#table = config.projections.postgresTable;
  }

  async schemaStatus(): Promise<SchemaComponent[]> {
    const versions = new Map<string, number>();
    try {
      const res = await this.#pool.query(
        `SELECT component, version FROM ${versionTable(quoteIdentifier(this.#schema, "schema"))}`,
      );
      for (const row of res.rows as Array<{ component: string; version: number }>) {
        versions.set(row.component, row.version);
      }
    } catch (err) {
      if (sqlState(err) !== "42P01") throw err; // undefined_table: nothing was ever set up in the schema
    }
    const expected: Array<readonly [string, number]> = [
      ["evtlog:events", LOG_SCHEMA_VERSION],
      ["snapshots:snapshots", SNAPSHOT_SCHEMA_VERSION],
      [`projections:${this.#table}`, PROJECTION_SCHEMA_VERSION],
    ];
    return expected.map(([component, want]) => {
      const version = versions.get(component) ?? 0;
      return { component, version, expected: want, state: componentState(version, want) };
    });
  }

  async migrate(): Promise<SchemaComponent[]> {
    const pool = this.#pool;
    const log = await PostgresEvtLog.create({ pool, maxConnections: 2, schema: this.#schema, notify: false });
    await log.close();
    await (await PostgresSnapshotStore.create({ pool, schema: this.#schema })).close();
    await (await PostgresProjectionStore.create({ pool, schema: this.#schema, table: this.#table })).close();
    return this.schemaStatus();
  }

  async evtLog(): Promise<ListingEvtLog> {
    await this.#require("evtlog:events", "event log");
    const log = await PostgresEvtLog.create({
      pool: this.#pool,
      maxConnections: 2,
      schema: this.#schema,
      setup: false,
      notify: false,
      logger: silentLogger,
    });
    this.#closers.push(() => log.close());
    return log;
  }

  async snapshotStore(): Promise<AdminSnapshotStore> {
    await this.#require("snapshots:snapshots", "snapshot");
    const store = await PostgresSnapshotStore.create({
      pool: this.#pool,
      schema: this.#schema,
      setup: false,
    });
    this.#closers.push(() => store.close());
    return store;
  }

  async projectionStore(): Promise<ListingProjectionStore> {
    await this.#require(`projections:${this.#table}`, "projection");
    const store = await PostgresProjectionStore.create({
      pool: this.#pool,
      schema: this.#schema,
      table: this.#table,
      setup: false,
    });
    this.#closers.push(() => store.close());
    return store;
  }

  async clusterStore(): Promise<AdminClusterStore> {
    const { inspectPostgresClusterStore } = await importCluster(
      () => import("@eventsourced/cluster/postgres"),
    );
    const inspector = await inspectPostgresClusterStore({ pool: this.#pool, schema: this.#schema });
    // The inspector only knows it was given a pool; the CLI knows the server (without its password).
    const tables = `${this.#schema}.cluster_config and ${this.#schema}.cluster_members`;
    return { ...inspector, where: `${this.where}, tables ${tables}` };
  }

  async close(): Promise<void> {
    for (const close of this.#closers.splice(0).reverse()) await close().catch(() => {});
    await this.#pool.end();
  }

  async #require(component: string, what: string): Promise<void> {
    const found = (await this.schemaStatus()).find((c) => c.component === component);
    if (found?.state === "missing" || found?.state === "behind") {
      const problem =
        found.state === "missing" ? "not set up" : `at version ${found.version} of ${found.expected}`;
      throw new AdminCommandError(
        `the ${what} tables are ${problem} in schema ${this.#schema} (${this.where}): run \`eventsourced schema migrate\``,
      );
    }
  }
}
