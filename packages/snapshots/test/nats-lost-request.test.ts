import { isEventSourcedError } from "@eventsourced/core";
import { NatsSnapshotStore } from "@eventsourced/snapshots/nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cutWhileWaiting } from "../../../test/support/fault-proxy.js";
import { ProxiedNats } from "../../../test/support/proxied-nats.js";

const bytes = (text: string) => new TextEncoder().encode(text);

// A snapshot read whose connection is lost before its answer is read again once nats.js has reconnected,
// and a save fails at once as outcome unknown: neither waits out the request timeout (5 s). The store talks
// to a private server through a proxy that swallows answers and cuts the connection.
describe("a NATS snapshot request whose connection is lost before the answer", () => {
  let nats: ProxiedNats;
  let store: NatsSnapshotStore;

  beforeAll(async () => {
    nats = await ProxiedNats.start();
    store = await NatsSnapshotStore.create({ servers: nats.servers, bucket: "lost" });
  });
  afterAll(async () => {
    await store?.close().catch(() => {});
    await nats?.stop();
  });

  it("load is read again on the new connection", async () => {
    await store.save("T", "a", { seqNo: 3, bytes: bytes("three") });
    const loaded = await cutWhileWaiting(nats.proxy, "toClient", () => store.load("T", "a"));
    expect(loaded?.seqNo).toBe(3);
    expect(new TextDecoder().decode(loaded?.bytes)).toBe("three");
  }, 30_000);

  it("a save whose write was lost fails at once as outcome unknown, and saving again stores it", async () => {
    await store.save("T", "b", { seqNo: 1, bytes: bytes("one") });
    // The save's read is answered; its write (a publish to the key's subject) never reaches the server.
    nats.proxy.swallowToServerContaining = "PUB $KV.lost.";
    const started = Date.now();
    const saved = store.save("T", "b", { seqNo: 2, bytes: bytes("two") }).then(
      () => undefined,
      (err: unknown) => err,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    nats.proxy.heal();
    nats.proxy.cut();
    const lost = await saved;
    console.log(`save settled ${Date.now() - started} ms after it started (cut at ~100 ms)`);
    expect(isEventSourcedError(lost, "PERSIST_FAILED")).toBe(true);
    expect((lost as { outcomeUnknown?: boolean }).outcomeUnknown).toBe(true);
    expect((lost as Error).cause).toMatchObject({ code: "NATS_REQUEST_LOST" });
    expect((await store.load("T", "b"))?.seqNo).toBe(1);
    await store.save("T", "b", { seqNo: 2, bytes: bytes("two") });
    expect((await store.load("T", "b"))?.seqNo).toBe(2);
  }, 30_000);
});
