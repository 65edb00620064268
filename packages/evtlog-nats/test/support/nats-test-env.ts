import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";

/** The NATS server the tests use: `NATS_URL`, default the local one. */
export const NATS_URL: string = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

const HOW_TO_START =
  "start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- " +
  "-a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log (or set NATS_URL)";

/** Connects to the test server or fails with how to start it: these tests never skip. */
export async function connectTestNats(): Promise<NatsConnection> {
  try {
    return await connect({ servers: NATS_URL, name: "eventsourced-tests" });
  } catch (err) {
    throw new Error(`NATS with JetStream is not reachable at ${NATS_URL}; ${HOW_TO_START}`, { cause: err });
  }
}

/** A stream (or bucket) name no other test run uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Deletes a stream if it exists. */
export async function deleteStream(nc: NatsConnection, name: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(name).catch(() => {});
}
