import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import {
  failureReason,
  natsSnapshotBucket,
  natsSubjectPrefix,
  redactUrl,
  serverUnreachableError,
} from "@eventsourced/cli/config";
import {
  ConfigurationError,
  ConnectionError,
  consoleLogger,
  type EvtLog,
  type Logger,
  type SnapshotStore,
} from "@eventsourced/core";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { startEmbeddedPostgres } from "@eventsourced/evtlog-postgres/embedded";
import type { LeaseStore } from "@eventsourced/leases";
import { NatsLeaseStore } from "@eventsourced/leases/nats";
import { PostgresLeaseStore } from "@eventsourced/leases/postgres";
import { NatsSnapshotStore } from "@eventsourced/snapshots/nats";
import { PostgresSnapshotStore } from "@eventsourced/snapshots/postgres";
import type { NatsConnection } from "@nats-io/transport-node";
import pg from "pg";
import type { CounterConfig } from "./config.js";
import { lockDataDir } from "./data-dir-lock.js";
import { openNatsConnection } from "./nats-connection.js";
import type { RunTenure } from "./run-lease.js";

/** The event log and snapshot store a run uses, opened from the configuration. */
export interface OpenedStores {
  readonly evtLog: EvtLog;
  readonly snapshotStore: SnapshotStore;
  /** Which log, for the JSON summary: `postgres`, `pglite` (embedded) or `nats`. */
  readonly log: "postgres" | "pglite" | "nats";
  /** A pool on the log's database (PostgreSQL and embedded), for the counter_totals projection. */
  readonly pool?: pg.Pool | undefined;
  /**
   * Where a run takes its lease on the store, and how its writes are fenced by it (PostgreSQL server and NATS;
   * the embedded database has its data-directory lock), so that two runs on one store take turns instead of
   * changing each other's counters.
   */
  readonly runLease?: RunLeaseStore | undefined;
  /** Closes the stores and their connections (and stops the embedded server). */
  close(): Promise<void>;
}

/** Where a run takes its lease on a server store, and the log it writes through while it holds it. */
export interface RunLeaseStore {
  readonly store: LeaseStore;
  /**
   * The event log as the run holding `tenure` uses it: every persist commits only while that tenure lasts;
   * after it (the lease expired while the run was paused or cut off, and another run may have taken it) a
   * persist rejects with `OwnershipLostError` and writes nothing. Reads see the whole log.
   */
  fenced(tenure: RunTenure): EvtLog;
}

/** How long a run's lease outlives a run killed with SIGKILL: the next run waits at most this long for it. */
const RUN_LEASE_TTL_MS = 5_000;

/** Where the configured stores are, safe to print (no password); known before anything is opened. */
export function describeStores(config: CounterConfig): string {
  const { kind, postgres, nats } = config.evtLog;
  if (kind === "nats") {
    const { stream } = nats;
    return `NATS at ${redactUrl(nats.url)}, stream ${stream} (subjects ${natsSubjectPrefix(nats)}.>), snapshot bucket ${natsSnapshotBucket(nats)}`;
  }
  return postgres.url === ""
    ? `embedded PostgreSQL (PGlite) in ${postgres.dataDir}, schema ${postgres.schema}`
    : `PostgreSQL at ${redactUrl(postgres.url)}, schema ${postgres.schema}`;
}

/** How to start each server, for the one-line message when it cannot be reached. */
export const START_HINTS = {
  postgres:
    "start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` " +
    "(or set APP__EVT_LOG__POSTGRES__URL / DATABASE_URL to a reachable server, or leave both empty for the embedded database)",
  nats:
    "start it with `nats-server -js` (JetStream is required), e.g. " +
    "`start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server`",
} as const;

function unreachable(
  server: string,
  url: string,
  error: unknown,
  secrets: readonly string[],
  hint: string,
): never {
  throw serverUnreachableError({ server, url, error, secrets, hint });
}

async function startEmbedded(dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  // Node.js 20's mkdirSync(recursive) spins forever under /proc, blocking even the signal handlers.
  if (/^\/(proc|sys)(\/|$)/.test(resolve(dataDir))) {
    throw new ConfigurationError(
      `config key evtLog.postgres.dataDir is ${dataDir}: a data directory cannot be under /proc or /sys`,
      "evtLog.postgres.dataDir",
      "config",
    );
  }
  let unlock: (() => void) | undefined;
  try {
    mkdirSync(dataDir, { recursive: true });
    unlock = await lockDataDir(dataDir);
    const embedded = await startEmbeddedPostgres({ dataDir, port: 0 });
    const release = unlock;
    return {
      url: embedded.connectionString,
      stop: async () => {
        await embedded.stop();
        release();
      },
    };
  } catch (error) {
    unlock?.();
    throw new ConnectionError(
      `cannot start the embedded PostgreSQL in ${dataDir}: ${failureReason(error)}; ` +
        "set APP__EVT_LOG__POSTGRES__DATA_DIR to use another directory",
      dataDir,
      { cause: error },
    );
  }
}

async function openPostgres(
  config: CounterConfig["evtLog"]["postgres"],
  logger: Logger,
): Promise<OpenedStores> {
  const { schema } = config;
  const embedded = config.url === "" ? await startEmbedded(config.dataDir) : undefined;
  const url = embedded?.url ?? config.url;
  // The embedded server takes a single connection: the log and the snapshot store share one pool of one.
  const sharedPool = embedded ? new pg.Pool({ connectionString: url, max: 1 }) : undefined;
  sharedPool?.on("error", (error) =>
    logger.warn("embedded PostgreSQL connection failed", { error: error.message }),
  );
  const connection = sharedPool ? { pool: sharedPool } : { connectionString: url };
  let leaseStore: PostgresLeaseStore | undefined;
  let evtLog: PostgresEvtLog | undefined;
  try {
    // First: the log checks the run's fenced persists against this store's table.
    leaseStore = embedded
      ? undefined
      : await PostgresLeaseStore.create({ connectionString: url, schema, ttlMs: RUN_LEASE_TTL_MS });
    evtLog = await PostgresEvtLog.create({
      ...connection,
      ...(sharedPool ? { maxConnections: 1 } : {}),
      schema,
      logger,
      fencing: leaseStore && { leaseTable: leaseStore.table },
    });
    const log = evtLog;
    const snapshotStore = await PostgresSnapshotStore.create({ ...connection, schema });
    const pool = sharedPool ?? new pg.Pool({ connectionString: url, max: 3 });
    pool.on("error", () => {});
    const leases = leaseStore;
    return {
      evtLog,
      snapshotStore,
      log: embedded ? "pglite" : "postgres",
      pool,
      runLease: leases && {
        store: leases,
        // Fencing on PostgreSQL checks persists only; the view reads (in bulk too) from the log itself.
        fenced: (tenure) => log.fenced({ ...tenure }),
      },
      async close() {
        await leases?.close();
        await snapshotStore.close();
        await log.close();
        await pool.end();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await evtLog?.close().catch(() => {});
    await leaseStore?.close().catch(() => {});
    await sharedPool?.end().catch(() => {});
    await embedded?.stop().catch(() => {});
    if (error instanceof ConfigurationError) throw error;
    if (embedded) {
      throw new ConnectionError(
        `the embedded PostgreSQL in ${config.dataDir} failed: ${failureReason(error)}`,
        config.dataDir,
        { cause: error },
      );
    }
    return unreachable("PostgreSQL", url, error, [], START_HINTS.postgres);
  }
}

async function openNats(config: CounterConfig["evtLog"]["nats"], logger: Logger): Promise<OpenedStores> {
  const { url, stream } = config;
  const secrets = [config.password, config.token];
  let connection: NatsConnection | undefined;
  try {
    connection = await openNatsConnection(config);
    const evtLog = await NatsEvtLog.connect({
      connection,
      stream: { name: stream, subjectPrefix: natsSubjectPrefix(config) },
      logger,
    });
    const snapshotStore = await NatsSnapshotStore.create({ connection, bucket: natsSnapshotBucket(config) });
    const leaseStore = await NatsLeaseStore.create({
      connection,
      bucket: `${stream}-counter-runs`,
      ttlMs: RUN_LEASE_TTL_MS,
    });
    const nc = connection;
    return {
      evtLog,
      snapshotStore,
      log: "nats",
      runLease: {
        store: leaseStore,
        // Each counter is fenced (an epoch marker) when the run first touches it, before recovery reads it.
        fenced: ({ owner, epoch }) => evtLog.fenced({ owner, epoch }),
      },
      async close() {
        await leaseStore.close();
        await snapshotStore.close();
        await evtLog.close();
        if (!nc.isClosed()) await nc.drain();
      },
    };
  } catch (error) {
    if (connection !== undefined && !connection.isClosed()) await connection.close().catch(() => {});
    if (error instanceof ConfigurationError) throw error;
    return unreachable("NATS", url, error, secrets, START_HINTS.nats);
  }
}

/**
 * Opens the configured event log and its snapshot store: PostgreSQL at a URL, the embedded PostgreSQL
 * (PGlite in a local data directory, so that a second run recovers) when no URL is given, or NATS.
 * @throws ConnectionError with a one-line message naming the server (password masked) and how to start it.
 */
export function openStores(config: CounterConfig, logger: Logger = consoleLogger): Promise<OpenedStores> {
  return config.evtLog.kind === "nats"
    ? openNats(config.evtLog.nats, logger)
    : openPostgres(config.evtLog.postgres, logger);
}
