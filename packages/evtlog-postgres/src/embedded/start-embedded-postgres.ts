import { mkdirSync } from "node:fs";

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Where PGlite keeps its files; created when missing, reused on the next start. */
  readonly dataDir: string;
  /** TCP port; 0 (the default) picks a free one. */
  readonly port?: number | undefined;
  /** Interface to listen on. Default `127.0.0.1` (keep it on loopback: there is no authentication). */
  readonly host?: string | undefined;
}

/** A running embedded server. */
export interface EmbeddedPostgres {
  /** `postgres://postgres@<host>:<port>/postgres`, for `pg` and for `PostgresEvtLog.create`. */
  readonly connectionString: string;
  /**
   * The server takes exactly one connection at a time: pass this as `maxConnections` to
   * `PostgresEvtLog.create`, and let anything else on the server (such as `PostgresSnapshotStore`) share one
   * `pg.Pool({ connectionString, max: 1 })` with the log.
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
 * const log = await PostgresEvtLog.create({
 *   connectionString: embedded.connectionString,
 *   maxConnections: embedded.maxConnections,
 * });
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
  waitForFreeSlot(server);
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  letNodeAcceptWaitingConnections(server);
  const address = server.getServerConn();
  const port = address.slice(address.lastIndexOf(":") + 1);
  const connectionString = `postgres://postgres@${host.includes(":") ? `[${host}]` : host}:${port}/postgres`;
  let stopped: Promise<void> | undefined;
  return {
    connectionString,
    maxConnections: 1,
    stop: () => {
      stopped ??= (async () => {
        await server.stop();
        await db.close();
      })();
      return stopped;
    },
  };
}

/** How long a new connection may wait for the previous one to be released before it is refused. */
const SLOT_WAIT_MS = 5_000;

interface SlotInternals {
  handleConnection?: (socket: unknown) => Promise<void>;
  getStats(): { activeConnections: number };
  server?: { maxConnections: number } | null;
}

/**
 * pglite-socket also sets `net.Server.maxConnections` to 1, and Node then drops a new socket outright
 * while the previous one is still closing. Raise Node's limit; `waitForFreeSlot` and the socket server's
 * own check keep it to one active connection.
 */
function letNodeAcceptWaitingConnections(server: object): void {
  const net = (server as SlotInternals).server;
  if (net != null && typeof net.maxConnections === "number") net.maxConnections = 16;
}

/**
 * The socket server frees its single slot a few event-loop turns after a client disconnects, so a client
 * that reconnects at once (a pool replaced, a dropped connection re-established) would be refused with
 * "Too many connections". Let a new connection wait briefly for the slot instead. This wraps an internal
 * method of pglite-socket 0.2; if a later version lacks it, connections are simply refused as before.
 */
function waitForFreeSlot(server: object): void {
  const internals = server as SlotInternals;
  const handle = internals.handleConnection;
  if (typeof handle !== "function") return;
  internals.handleConnection = async (socket: unknown) => {
    const deadline = Date.now() + SLOT_WAIT_MS;
    while (internals.getStats().activeConnections >= 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return handle.call(server, socket);
  };
}
