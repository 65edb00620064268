import { readFile } from "node:fs/promises";
import { ConfigurationError, ConnectionError } from "@eventsourced/core";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";

/** How to reach a NATS server when no existing connection is given. */
export interface NatsServerOptions {
  /** One or more server URLs; default `nats://127.0.0.1:4222`. */
  readonly servers?: string | readonly string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
  /** Path of a `.creds` file (JWT + nkey seed), as issued by `nsc`. */
  readonly credsFile?: string;
}

/** Opens a connection that reconnects forever; `ConnectionError` (no secrets) when the first connect fails. */
export async function connectNats(options: NatsServerOptions): Promise<NatsConnection> {
  const servers =
    options.servers === undefined
      ? ["nats://127.0.0.1:4222"]
      : typeof options.servers === "string"
        ? [options.servers]
        : [...options.servers];
  const target = describeServers(servers);
  let authenticator: ReturnType<typeof credsAuthenticator> | undefined;
  if (options.credsFile !== undefined) {
    try {
      authenticator = credsAuthenticator(await readFile(options.credsFile));
    } catch (cause) {
      throw new ConfigurationError(
        `cannot read the NATS credentials file ${JSON.stringify(options.credsFile)}`,
        "credsFile",
        "NatsSnapshotStoreOptions",
        { cause },
      );
    }
  }
  try {
    return await connect({
      servers,
      name: "eventsourced-snapshots",
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

/** Server URLs for messages: any `user:password@` part is removed, so no secret is ever printed. */
export function describeServers(servers: readonly string[]): string {
  return servers.map((server) => server.replace(/^([a-z]+:\/\/)?[^@/]*@/i, "$1")).join(",");
}

/** A short, secret-free reason for a failure. */
export function reason(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  return cause.message.length > 0 ? `${cause.constructor.name}: ${cause.message}` : cause.constructor.name;
}
