import { isEventSourcedError } from "@eventsourced/core";
import { RequestLostError } from "@eventsourced/evtlog-nats";
import { classifyPublishFailure, failLostRequests, isReadRequest } from "@eventsourced/evtlog-nats/internal";
import type { Msg, NatsConnection, RequestOptions, Status } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";

describe("requests lost with their connection", () => {
  it("sends again only JetStream API reads", () => {
    for (const subject of [
      "$JS.API.DIRECT.GET.orders",
      "$JS.API.DIRECT.GET.KV_leases.$KV.leases.k",
      "$JS.API.STREAM.MSG.GET.orders",
      "$JS.API.STREAM.INFO.orders",
      "$JS.API.STREAM.NAMES",
      "$JS.API.STREAM.LIST",
      "$JS.API.CONSUMER.INFO.orders.c",
      "$JS.API.CONSUMER.NAMES.orders",
      "$JS.API.INFO",
      "$JS.hub.API.DIRECT.GET.orders",
    ]) {
      expect(isReadRequest(subject), subject).toBe(true);
    }
    for (const subject of [
      "$KV.leases.k",
      "$KV.leases.API.DIRECT.GET.x",
      "orders.T.a",
      "$JS.API.STREAM.PURGE.orders",
      "$JS.API.STREAM.MSG.DELETE.orders",
      "$JS.API.STREAM.CREATE.orders",
      "$JS.API.STREAM.UPDATE.orders",
      "$JS.API.CONSUMER.CREATE.orders",
      "$JS.API.INFOX",
      "x.$JS.API.INFO",
    ]) {
      expect(isReadRequest(subject), subject).toBe(false);
    }
  });

  it("reports a lost write as unanswered: it may have been applied", () => {
    const err = new RequestLostError("$KV.leases.k", { cause: new Error("disconnect") });
    expect(err.code).toBe("NATS_REQUEST_LOST");
    expect(err.subject).toBe("$KV.leases.k");
    expect(isEventSourcedError(err, "NATS_REQUEST_LOST")).toBe(true);
    expect(classifyPublishFailure(err)).toBe("unanswered");
  });
});

/** A connection whose status events the test sends, and whose requests are answered only when told. */
function fakeConnection() {
  const statuses: Status[] = [];
  let wake: (() => void) | undefined;
  let closed!: () => void;
  const closedPromise = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const sent: { subject: string; timeout: number; answer(msg: Msg): void }[] = [];
  const nc = {
    status: () => ({
      async *[Symbol.asyncIterator]() {
        for (;;) {
          while (statuses.length > 0) yield statuses.shift()!;
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      },
    }),
    closed: () => closedPromise,
    request: (subject: string, _payload: unknown, options: RequestOptions) =>
      new Promise<Msg>((resolve) => sent.push({ subject, timeout: options.timeout, answer: resolve })),
    getServer: () => "fake:4222",
  } as unknown as NatsConnection;
  return {
    nc,
    sent,
    report(type: "disconnect" | "reconnect") {
      statuses.push({ type, server: "fake:4222" } as Status);
      wake?.();
    },
    close: () => closed(),
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 10));
const reply = { subject: "_INBOX.x", data: new Uint8Array() } as unknown as Msg;

describe("failLostRequests", () => {
  it("fails a write waiting at the disconnect with RequestLostError and does not send it again", async () => {
    const fake = fakeConnection();
    const write = failLostRequests(fake.nc)
      .request("$KV.b.k", new Uint8Array(), { timeout: 60_000 })
      .catch((err: unknown) => err);
    await settle();
    fake.report("disconnect");
    const err = await write;
    expect(err).toBeInstanceOf(RequestLostError);
    expect(err).toMatchObject({ code: "NATS_REQUEST_LOST", subject: "$KV.b.k" });
    expect(String((err as Error).cause)).toContain('"disconnect"');
    fake.report("reconnect");
    await settle();
    expect(fake.sent.map((s) => s.subject)).toEqual(["$KV.b.k"]);
  });

  it("sends a read lost at the disconnect again after the reconnect, with what is left of its timeout", async () => {
    const fake = fakeConnection();
    const read = failLostRequests(fake.nc).request("$JS.API.DIRECT.GET.s", new Uint8Array(), {
      timeout: 60_000,
    });
    await settle();
    fake.report("disconnect");
    await settle();
    expect(fake.sent).toHaveLength(1);
    fake.report("reconnect");
    await settle();
    expect(fake.sent).toHaveLength(2);
    expect(fake.sent[1]!.timeout).toBeLessThanOrEqual(60_000);
    expect(fake.sent[1]!.timeout).toBeGreaterThan(50_000);
    fake.sent[1]!.answer(reply);
    expect(await read).toBe(reply);
  });

  it("fails a read made while disconnected at the reconnect, then sends it again", async () => {
    const fake = fakeConnection();
    const connection = failLostRequests(fake.nc);
    fake.report("disconnect");
    await settle();
    const read = connection.request("$JS.API.STREAM.INFO.s", new Uint8Array(), { timeout: 60_000 });
    await settle();
    fake.report("reconnect");
    await settle();
    expect(fake.sent).toHaveLength(2);
    fake.sent[1]!.answer(reply);
    expect(await read).toBe(reply);
  });

  it("gives up on a lost read when its timeout passes or the connection closes before the reconnect", async () => {
    const fake = fakeConnection();
    const connection = failLostRequests(fake.nc);
    const late = connection
      .request("$JS.API.DIRECT.GET.s", undefined, { timeout: 50 })
      .catch((e: unknown) => e);
    const closed = connection
      .request("$JS.API.DIRECT.GET.s", undefined, { timeout: 60_000 })
      .catch((e: unknown) => e);
    await settle();
    fake.report("disconnect");
    expect(await late).toBeInstanceOf(RequestLostError);
    fake.close();
    expect(await closed).toBeInstanceOf(RequestLostError);
    expect(fake.sent).toHaveLength(2);
  });

  it("wraps a connection once, and a wrapped connection not again", () => {
    const fake = fakeConnection();
    const connection = failLostRequests(fake.nc);
    expect(failLostRequests(fake.nc)).toBe(connection);
    expect(failLostRequests(connection)).toBe(connection);
    expect(connection.getServer()).toBe("fake:4222");
  });
});
