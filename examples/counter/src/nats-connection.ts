import { readFile } from "node:fs/promises";
import { ConfigurationError } from "@eventsourced/core";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";

/** How the example reaches NATS; empty strings mean "not set". */
export interface NatsConnectionConfig {
  readonly url: string;
  readonly user: string;
  readonly password: string;
  readonly token: string;
  readonly credsFile: string;
}

async function readCreds(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new ConfigurationError(
      `config key evtLog.nats.credsFile names a file that cannot be read: ${path} (${(cause as Error).message})`,
      "evtLog.nats.credsFile",
      path,
      { cause },
    );
  }
}

/**
 * One connection shared by the event log and the snapshot store. Opened here rather than by the adapters
 * so that it can turn off nats.js's async stack traces: with them every publish builds two `Error`
 * objects up front, which was the largest cost of the write phase in a CPU profile.
 * @throws ConfigurationError when `credsFile` cannot be read; the driver's error when the server cannot be
 * reached.
 */
export async function openNatsConnection(config: NatsConnectionConfig): Promise<NatsConnection> {
  const authenticator =
    config.credsFile === "" ? undefined : credsAuthenticator(await readCreds(config.credsFile));
  return connect({
    servers: config.url,
    name: "eventsourced-counter",
    noAsyncTraces: true,
    // Keep reconnecting during the run (publishes time out meanwhile); the first connect fails fast.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    ...(config.user === "" ? {} : { user: config.user }),
    ...(config.password === "" ? {} : { pass: config.password }),
    ...(config.token === "" ? {} : { token: config.token }),
    ...(authenticator === undefined ? {} : { authenticator }),
  });
}
