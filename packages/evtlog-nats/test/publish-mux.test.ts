import { jetstreamManager } from "@nats-io/jetstream";
import { headers, type NatsConnection, nuid } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyPublishFailure } from "../src/publish-failure.js";
import { PublishMux } from "../src/publish-mux.js";
import { connectTestNats, deleteStream, uniqueName } from "./support/nats-test-env.js";

const body = new TextEncoder().encode("x");
const options = (lastSubjectSequence: number, msgID = nuid.next(), timeout = 5_000) => ({
  msgID,
  headers: headers(),
  expect: { lastSubjectSequence },
  timeout,
});

describe("PublishMux", () => {
  let nc: NatsConnection;
  let mux: PublishMux;
  const stream = uniqueName("mux");

  beforeAll(async () => {
    nc = await connectTestNats();
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], storage: "file" });
    mux = new PublishMux(nc);
  });
  afterAll(async () => {
    mux.close();
    await deleteStream(nc, stream);
    await nc.close();
  });

  it("acknowledges concurrent publishes each with its own stream sequence", async () => {
    const acks = await Promise.all(
      Array.from({ length: 50 }, (_, i) => mux.publish(`${stream}.a.e${i}`, body, options(0))),
    );
    expect(new Set(acks.map((ack) => ack.seq)).size).toBe(50);
    expect(acks.every((ack) => !ack.duplicate)).toBe(true);
  });

  it("reports a second publish with the same message id as a duplicate of the first", async () => {
    const msgID = nuid.next();
    const first = await mux.publish(`${stream}.b.x`, body, options(0, msgID));
    const again = await mux.publish(`${stream}.b.x`, body, options(0, msgID));
    expect(again).toEqual({ seq: first.seq, duplicate: true });
  });

  it("rejects a wrong expected last subject sequence as a conflict", async () => {
    await mux.publish(`${stream}.c.x`, body, options(0));
    const err = await mux.publish(`${stream}.c.x`, body, options(0)).catch((e) => e);
    expect(classifyPublishFailure(err)).toBe("conflict");
  });

  it("rejects a subject no stream captures as not ready (nothing answered for a stream)", async () => {
    const err = await mux.publish(`${uniqueName("nostream")}.x`, body, options(0)).catch((e) => e);
    expect(classifyPublishFailure(err)).toBe("notReady");
  });

  it("rejects a publish nobody answers in time as unanswered", async () => {
    const silent = `${uniqueName("silent")}.x`;
    const sub = nc.subscribe(silent, { callback: () => {} });
    try {
      await nc.flush();
      const err = await mux.publish(silent, body, options(0, nuid.next(), 100)).catch((e) => e);
      expect(classifyPublishFailure(err)).toBe("unanswered");
    } finally {
      sub.unsubscribe();
    }
  });

  it("refuses to publish on a draining or closed connection (nothing sent)", async () => {
    const other = await connectTestNats();
    const own = new PublishMux(other);
    await other.close();
    const err = await own.publish(`${stream}.d.x`, body, options(0)).catch((e) => e);
    expect(classifyPublishFailure(err)).toBe("notSent");
  });

  it("subscribes again when its reply subscription ends under an open connection; refuses once closed", async () => {
    const other = await connectTestNats();
    try {
      const own = new PublishMux(other);
      await own.publish(`${stream}.e.x`, body, options(0));
      // End the reply subscription from outside (as the server may, e.g. on a permissions violation).
      const subs = (other as unknown as { protocol: { subscriptions: { all(): { unsubscribe(): void }[] } } })
        .protocol.subscriptions;
      for (const sub of subs.all()) sub.unsubscribe();
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect((await own.publish(`${stream}.e.y`, body, options(0))).duplicate).toBe(false);
      own.close();
      const err = await own.publish(`${stream}.e.z`, body, options(0)).catch((e) => e);
      expect(err.name).toBe("PublisherClosedError");
      expect(classifyPublishFailure(err)).toBe("notSent");
    } finally {
      await other.close();
    }
  });
});
