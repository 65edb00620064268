import { isEventSourcedError } from "@eventsourced/core";
import { RequestLostError } from "@eventsourced/evtlog-nats";
import { classifyPublishFailure, isReadRequest } from "@eventsourced/evtlog-nats/internal";
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
