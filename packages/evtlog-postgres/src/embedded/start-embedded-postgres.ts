import { mkdirSync } from "node:fs";
import { singleConnectionServers } from "./single-connection-servers.js";

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Where PGlite keeps its files; created when missing, reused on the next start. */
  readonly dataDir: string;
  /** TCP port; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Interface to listen on. Default `127.0.0.1` (keep it on loopback: there is no authentication). */
  readonly host?: string;
}

/** A running embedded server. */
export interface EmbeddedPostgres {
  /** `postgres://postgres@<host>:<port>/postgres`, for `pg` and for `PostgresEvtLog.create`. */
  readonly connectionString: string;
  /**
   * The server takes exactly one connection at a time. `PostgresEvtLog.create({ connectionString })`
   * knows this (in the same process) and uses a single connection; anything else sharing the server,
   * such as `PostgresSnapshotStore`, must share one `pg.Pool({ connectionString, max: 1 })` with the log.
   */
  readonly maxConnections: 1;
  /** Closes the socket server and PGlite (flushing the data directory). */
  stop(): Promise<void>;
}

/**
 * Starts an embedded PostgreSQL: PGlite (PostgreSQL compiled to WebAssembly, running in this process),
 * persisted to `dataDir` and served to `pg` over the PostgreSQL wire protocol on a loopback port.
 * Needs the optional peer dependencies `@electric-sql/pglite` and `@electric-sql/pglite-socket`.
 *
 * PGlite runs one session, so the server accepts one connection: concurrent connections would interleave
 * their protocol messages inside that one session. See the package README for what else differs.
 * @example
 * const embedded = await startEmbeddedPostgres({ dataDir: "./data/pg" });
 * const log = await PostgresEvtLog.create({ connectionString: embedded.connectionString });
 * // ...
 * await log.close();
 * await embedded.stop();
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { PGLiteSocketServer } = await import("@electric-sql/pglite-socket");
  const host = options.host ?? "127.0.0.1";
  mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  const server = new PGLiteSocketServer({ db, host, port: options.port ?? 0, maxConnections: 1 });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  const address = server.getServerConn();
  const port = address.slice(address.lastIndexOf(":") + 1);
  const connectionString = `postgres://postgres@${host.includes(":") ? `[${host}]` : host}:${port}/postgres`;
  singleConnectionServers.add(connectionString);
  let stopped: Promise<void> | undefined;
  return {
    connectionString,
    maxConnections: 1,
    stop: () => {
      stopped ??= (async () => {
        singleConnectionServers.delete(connectionString);
        await server.stop();
        await db.close();
      })();
      return stopped;
    },
  };
}
