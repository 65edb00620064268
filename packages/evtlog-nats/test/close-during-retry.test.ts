import { PersistError } from "@eventsourced/core";
import { uniqueTypeName } from "@eventsourced/core/testing";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestNats, deleteStream, uniqueName } from "./support/nats-test-env.js";

// A persist waiting to retry (its stream did not answer) when the log is closed: close() has nothing to
// wait for at that moment, so it returns; the retry must not then publish on, and subscribe to, a connection
// the caller passed in and goes on using.

/** The subscriptions nats.js holds on `nc`. */
const subscriptions = (nc: NatsConnection) =>
  (nc as unknown as { protocol: { subscriptions: { size(): number } } }).protocol.subscriptions.size();

describe("closing a log on a connection passed in while a persist waits to retry", () => {
  let nc: NatsConnection;
  const stream = uniqueName("close_retry");

  beforeAll(async () => {
    nc = await connectTestNats();
  });
  afterAll(async () => {
    await deleteStream(nc, stream);
    await nc.close();
  });

  it("fails the persist (nothing sent after close) and leaves no subscription of the log's on the connection", async () => {
    const log = await NatsEvtLog.connect({
      connection: nc,
      stream: { name: stream, subjectPrefix: stream },
      publishAttempts: 5,
    });
    const type = uniqueTypeName();
    await log.persist(type, "x", 0, [{ bytes: new Uint8Array([1]) }]);
    const before = subscriptions(nc);
    // No stream answers any more: the next persist's first attempt gets "no responders" and waits to retry.
    await (await jetstreamManager(nc)).streams.delete(stream);
    const persist = log.persist(type, "x", 1, [{ bytes: new Uint8Array([2]) }]).catch((err: unknown) => err);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await log.close();
    const err = await persist;
    expect(err).toBeInstanceOf(PersistError);
    expect((err as PersistError).message).toMatch(/closed/);
    // The log's reply subscription went with close(), and no retry made another one.
    expect(subscriptions(nc)).toBe(before - 1);
  }, 30_000);
});
