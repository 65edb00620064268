import { InvalidArgumentError } from "@eventsourced/core";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestNats, deleteStream, NATS_URL, uniqueName } from "./support/nats-test-env.js";

const evt = { bytes: new Uint8Array([1]) };

describe("NatsEvtLog.entityIds", () => {
  let nc: NatsConnection;
  let log: NatsEvtLog;
  const stream = uniqueName("entity_ids");

  beforeAll(async () => {
    nc = await connectTestNats();
    log = await NatsEvtLog.connect({
      servers: NATS_URL,
      stream: { name: stream, subjectPrefix: stream, storage: "memory" },
    });
    for (const id of ["b", "a", "c.d", "é"]) await log.persist("account", id, 0, [evt]);
    await log.persist("account", "a", 1, [evt]);
    await log.persist("other", "x", 0, [evt]);
  });
  afterAll(async () => {
    await log?.close();
    await deleteStream(nc, stream);
    await nc?.close();
  });

  it("lists the decoded ids of one type once each, in ascending order", async () => {
    expect(await log.entityIds("account")).toEqual(["a", "b", "c.d", "é"]);
    expect(await log.entityIds("other")).toEqual(["x"]);
    expect(await log.entityIds("none")).toEqual([]);
  });

  it("pages with after and limit", async () => {
    expect(await log.entityIds("account", { limit: 2 })).toEqual(["a", "b"]);
    expect(await log.entityIds("account", { after: "b", limit: 1 })).toEqual(["c.d"]);
  });

  it("skips a foreign subject that is not an encoded id", async () => {
    await jetstream(nc).publish(`${stream}.account.=zz`, new Uint8Array([0]));
    expect(await log.entityIds("account")).toEqual(["a", "b", "c.d", "é"]);
  });

  it("refuses a bad type or limit with InvalidArgumentError", async () => {
    await expect(log.entityIds("no spaces")).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(log.entityIds("account", { limit: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
