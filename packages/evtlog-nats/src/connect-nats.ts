import { readFile } from "node:fs/promises";
import { ConfigurationError, ConnectionError, EventSourcedError } from "@eventsourced/core";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";

/** How to reach a NATS server when no existing connection is given. */
export interface NatsConnectOptions {
  /** One or more server URLs; default `nats://127.0.0.1:4222`. */
  readonly servers?: string | readonly string[] | undefined;
  readonly user?: string | undefined;
  readonly pass?: string | undefined;
  readonly token?: string | undefined;
  /** Path of a `.creds` file (JWT + nkey seed), as issued by `nsc`. */
  readonly credsFile?: string | undefined;
  /** Client name shown by the server's monitoring endpoints. */
  readonly name?: string | undefined;
}

/** The default server URL. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/**
 * Opens a connection that keeps reconnecting forever (publishes fail with a timeout meanwhile) and fails
 * fast with `ConnectionError` when the first connect is impossible: unreachable server or bad credentials.
 */
export async function connectNats(options: NatsConnectOptions): Promise<NatsConnection> {
  const servers = serverList(options.servers);
  const target = describeServers(servers);
  let authenticator: ReturnType<typeof credsAuthenticator> | undefined;
  if (options.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = await readFile(options.credsFile);
    } catch (cause) {
      throw new ConfigurationError(
        `cannot read the NATS credentials file ${JSON.stringify(options.credsFile)}`,
        "credsFile",
        "NatsConnectOptions",
        { cause },
      );
    }
    authenticator = credsAuthenticator(creds);
  }
  try {
    return await connect({
      servers,
      name: options.name ?? "eventsourced",
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      // nats.js otherwise creates two Error objects per request just to keep the caller's stack for a
      // possible timeout: a third of the client's CPU per persist. Our errors carry their own context.
      noAsyncTraces: true,
      ...(options.user === undefined ? {} : { user: options.user }),
      ...(options.pass === undefined ? {} : { pass: options.pass }),
      ...(options.token === undefined ? {} : { token: options.token }),
      ...(authenticator === undefined ? {} : { authenticator }),
    });
  } catch (cause) {
    throw new ConnectionError(`cannot connect to NATS at ${target}: ${reason(cause)}`, target, { cause });
  }
}

/** The server list as given, or the default. */
export function serverList(servers: string | readonly string[] | undefined): string[] {
  if (servers === undefined) return [DEFAULT_NATS_URL];
  return typeof servers === "string" ? [servers] : [...servers];
}

/** Server URLs for messages: any `user:password@` part is removed, so no secret is ever printed. */
export function describeServers(servers: readonly string[]): string {
  return servers.map((server) => server.replace(/^([a-z]+:\/\/)?[^@/]*@/i, "$1")).join(",");
}

/** A short, secret-free reason for a failure (the driver's message names no credentials). */
export function reason(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const name = cause.constructor.name;
  return cause.message.length > 0 ? `${name}: ${cause.message}` : name;
}

/**
 * Where a log or store talks to, for messages: the configured server URLs without credentials, or, on a
 * connection passed in, the server it is connected to.
 */
export function natsTarget(
  servers: string | readonly string[] | undefined,
  given: NatsConnection | undefined,
): string {
  return given === undefined ? describeServers(serverList(servers)) : given.getServer();
}

/**
 * The error for a failed setup step (`what`, e.g. "set up JetStream stream \"x\"") at `target`: our own
 * typed errors as they are, `ConnectionError` for JetStream missing or anything else.
 */
export function setupError(err: unknown, target: string, what: string): EventSourcedError {
  if (err instanceof EventSourcedError) return err;
  // nats.js names the error for "no JetStream answered" so (its class is not exported).
  if (err instanceof Error && err.name === "JetStreamNotEnabled") {
    return new ConnectionError(`JetStream is not enabled on the NATS server at ${target}`, target, {
      cause: err,
    });
  }
  return new ConnectionError(`cannot ${what} on NATS at ${target}: ${reason(err)}`, target, { cause: err });
}
