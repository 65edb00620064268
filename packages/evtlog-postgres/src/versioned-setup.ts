import type { Logger } from "@eventsourced/core";
import { SETUP_LOCK_KEY } from "./advisory-lock-key.js";
import { checkOut } from "./check-out.js";
import { classifyQueryFailure } from "./pg-errors.js";
import type { PgQueryPoolLike } from "./pg-pool-like.js";

/** One component's tables (an event log, a snapshot store) and the migrations that build them. */
export interface VersionedComponent {
  /** The quoted schema, created when missing. */
  readonly schema: string;
  /** The quoted, qualified version table, shared by every component in the schema. */
  readonly versions: string;
  /** The component's key in the version table, e.g. `evtlog:events`. */
  readonly component: string;
  /**
   * DDL by version: entry `i` brings the component from version `i` to `i + 1`. Append only; never edit a
   * released entry, since databases record which versions they ran.
   */
  readonly migrations: readonly string[];
  /** Warned when the database is newer than the code. */
  readonly logger?: Logger | undefined;
}

/** The name of the version table in a quoted schema. */
export function versionTable(schema: string): string {
  return `${schema}."eventsourced_schema_version"`;
}

/**
 * Brings `component` to the version its migrations reach. Idempotent, and safe when several processes
 * start at once: everything runs in one transaction holding a database-wide advisory lock (the same key
 * for every eventsourced component), so exactly one process migrates and the others then find the version
 * already recorded. A database newer than the code is used as it is.
 */
export async function runVersionedSetup(pool: PgQueryPoolLike, c: VersionedComponent): Promise<void> {
  const codeVersion = c.migrations.length;
  let broken: Error | undefined;
  // A connection that dies while no statement runs (at the hand-over, between two statements) emits
  // `error`: heard here, so it fails the next statement instead of crashing the process.
  const onError = (err: Error) => {
    broken = err;
  };
  const client = await checkOut(pool, onError);
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [SETUP_LOCK_KEY]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${c.schema};
      CREATE TABLE IF NOT EXISTS ${c.versions} (
        component  text PRIMARY KEY,
        version    integer NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      );`);
    const found = await client.query(`SELECT version FROM ${c.versions} WHERE component = $1`, [c.component]);
    const current = (found.rows[0] as { version: number } | undefined)?.version ?? 0;
    if (current > codeVersion) {
      c.logger?.warn("schema is newer than this code; using it as is", {
        component: c.component,
        databaseVersion: current,
        codeVersion,
      });
    }
    for (let version = current; version < codeVersion; version++) {
      await client.query(c.migrations[version]!);
    }
    if (current < codeVersion) {
      await client.query(
        `INSERT INTO ${c.versions} (component, version) VALUES ($1, $2)
         ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version, updated_at = now()`,
        [c.component, codeVersion],
      );
    }
    await client.query("COMMIT");
  } catch (err) {
    if (classifyQueryFailure(err).discardConnection)
      broken = err instanceof Error ? err : new Error(String(err));
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.removeListener?.("error", onError);
    if (broken !== undefined) client.on?.("error", () => {});
    client.release(broken);
  }
}
