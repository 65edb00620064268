import { NatsClusterStore } from "@eventsourced/cluster";
import { isEventSourcedError } from "@eventsourced/core";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { again } from "../../../test/support/again.js";
import { cutWhileWaiting } from "../../../test/support/fault-proxy.js";
import { ProxiedNats } from "../../../test/support/proxied-nats.js";

// A cluster store request whose connection is lost fails at once instead of waiting out its timeout (here
// a minute, longer than the test may take): a heartbeat or a leave fails with `RequestLostError` (outcome
// unknown), a members read is sent again on the new connection (ADR 0143, 0151). A stopping node's leave
// during an outage therefore no longer holds its stop for the store's timeout. A private server behind a
// proxy that swallows answers and cuts the connection.
describe("a NATS cluster store request whose connection is lost before the answer", () => {
  let nats: ProxiedNats;
  let nc: NatsConnection;
  let store: NatsClusterStore;

  beforeAll(async () => {
    nats = await ProxiedNats.start();
    nc = await connect({ servers: nats.servers, maxReconnectAttempts: -1, reconnectTimeWait: 500 });
    store = await NatsClusterStore.create(nc, { timeoutMs: 60_000 });
  });
  afterAll(async () => {
    await nc?.close().catch(() => {});
    await nats?.stop();
  });

  for (const drop of ["toClient", "toServer"] as const) {
    it(`a heartbeat and a leave fail with RequestLostError (${drop})`, async () => {
      const member = `m-${drop}`;
      const heartbeat = await cutWhileWaiting(nats.proxy, drop, () => store.heartbeat("c", "T", member)).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isEventSourcedError(heartbeat, "NATS_REQUEST_LOST")).toBe(true);
      await again("NATS_REQUEST_LOST", () => store.heartbeat("c", "T", member));
      const leave = await cutWhileWaiting(nats.proxy, drop, () => store.leave("c", "T", member)).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(isEventSourcedError(leave, "NATS_REQUEST_LOST")).toBe(true);
    }, 20_000);
  }

  it("a members read is read again on the new connection", async () => {
    await again("NATS_REQUEST_LOST", () => store.heartbeat("c", "R", "reader"));
    expect(await cutWhileWaiting(nats.proxy, "toClient", () => store.members("c", "R"))).toEqual(["reader"]);
  }, 20_000);
});
