import {
  InvalidArgumentError,
  OwnershipLostError,
  SeqNoConflictError,
  supportsRetention,
  type TypedEvtRecord,
} from "@eventsourced/core";
import { uniqueTypeName } from "@eventsourced/core/testing";
import { Header, NatsEvtLog } from "@eventsourced/evtlog-nats";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestNats, deleteStream, NATS_URL, uniqueName } from "./support/nats-test-env.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const evt = (text: string) => ({ bytes: encoder.encode(text) });

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

async function texts(log: NatsEvtLog, type: string, id: string, from = 1): Promise<string[]> {
  return (await collect(log.evtsById(type, id, { from }))).map((r) => decoder.decode(r.bytes));
}

describe("epoch markers (strict fencing on NATS)", () => {
  let nc: NatsConnection;
  const stream = uniqueName("markers");
  // Two logs on two connections stand for the previous and the new owner's processes.
  let oldOwner: NatsEvtLog;
  let newOwner: NatsEvtLog;

  beforeAll(async () => {
    nc = await connectTestNats();
    const options = { servers: NATS_URL, stream: { name: stream, subjectPrefix: stream } };
    oldOwner = await NatsEvtLog.connect(options);
    newOwner = await NatsEvtLog.connect(options);
  });
  afterAll(async () => {
    await oldOwner?.close();
    await newOwner?.close();
    await deleteStream(nc, stream);
    await nc.close();
  });

  it("makes a previous owner's late write fail with OwnershipLostError (fenced) or SeqNoConflictError (unfenced), writing nothing", async () => {
    const type = uniqueTypeName();
    await oldOwner.persist(type, "e", 0, [evt("a1")], { fence: { epoch: 1, owner: "node-a" } });
    await oldOwner.persist(type, "f", 0, [evt("f1")], { fence: { epoch: 1, owner: "node-a" } });
    expect(await newOwner.fence(type, "e", { epoch: 2, owner: "node-b" })).toBe(1);
    expect(await newOwner.fence(type, "f", { epoch: 2, owner: "node-b" })).toBe(1);
    // The old owner still remembers its own last message: without the marker these would be accepted.
    await expect(oldOwner.persist(type, "e", 1, [evt("late")])).rejects.toBeInstanceOf(SeqNoConflictError);
    const late = await oldOwner
      .persist(type, "f", 1, [evt("late")], { fence: { epoch: 1, owner: "node-a" } })
      .catch((e: unknown) => e);
    expect(late).toBeInstanceOf(OwnershipLostError);
    expect((late as Error).message).toContain("epoch 2");
    // Having re-read the head, a fenced persist of the old epoch is still refused, before anything is sent.
    await expect(
      oldOwner.persist(type, "e", 1, [evt("retry")], { fence: { epoch: 1, owner: "node-a" } }),
    ).rejects.toBeInstanceOf(OwnershipLostError);
    expect(await texts(oldOwner, type, "f")).toEqual(["f1"]);
    expect(await newOwner.persist(type, "e", 1, [evt("b2")], { fence: { epoch: 2 } })).toMatchObject({
      seqNo: 2,
    });
    expect(await texts(oldOwner, type, "e")).toEqual(["a1", "b2"]);
  });

  it("is skipped by every reader: by id (whole, bisected, after the marker), last seqNo, by type, head of type", async () => {
    const type = uniqueTypeName();
    for (let i = 1; i <= 5; i++) await oldOwner.persist(type, "x", i - 1, [evt(`x${i}`)]);
    await oldOwner.persist(type, "y", 0, [evt("y1")]);
    await newOwner.fence(type, "x", { epoch: 3 });
    await newOwner.fence(type, "y", { epoch: 3 });
    await newOwner.fence(type, "never-written", { epoch: 3 });
    // Markers last on the type: the head is still the last event.
    const byType = await collect(newOwner.evtsByType(type));
    expect(byType.map((r) => `${r.id}:${decoder.decode(r.bytes)}`)).toEqual([
      "x:x1",
      "x:x2",
      "x:x3",
      "x:x4",
      "x:x5",
      "y:y1",
    ]);
    expect((await newOwner.headOfType(type))?.position).toBe(byType.at(-1)!.position);
    expect(await newOwner.lastSeqNo(type, "x")).toBe(5);
    expect(await newOwner.lastSeqNo(type, "never-written")).toBe(0);
    expect(await texts(newOwner, type, "never-written")).toEqual([]);
    await newOwner.persist(type, "x", 5, [evt("x6")]);
    await newOwner.persist(type, "never-written", 0, [evt("n1")]);
    await newOwner.fence(type, "x", { epoch: 4 });
    expect(await texts(newOwner, type, "x")).toEqual(["x1", "x2", "x3", "x4", "x5", "x6"]);
    expect(await texts(oldOwner, type, "x", 4)).toEqual(["x4", "x5", "x6"]);
    expect(await texts(oldOwner, type, "x", 6)).toEqual(["x6"]);
    expect(await texts(oldOwner, type, "x", 7)).toEqual([]);
    expect(await texts(oldOwner, type, "never-written")).toEqual(["n1"]);
    const after = await collect(oldOwner.evtsByType(type, { after: byType.at(-1)!.position }));
    expect(after.map((r: TypedEvtRecord) => `${r.id}:${r.seqNo}`)).toEqual(["x:6", "never-written:1"]);
    // Retention keeps working across markers.
    expect(await oldOwner.deleteEvts(type, "x", 6)).toMatchObject({ deletedTo: 6 });
    expect(await oldOwner.deletedTo(type, "x")).toBe(6);
    expect(await oldOwner.lastSeqNo(type, "x")).toBe(6);
    await oldOwner.persist(type, "x", 6, [evt("x7")]);
    expect(await texts(newOwner, type, "x")).toEqual(["x7"]);
  });

  it("writes one marker per entity and epoch, and refuses an epoch older than the entity's last one", async () => {
    const type = uniqueTypeName();
    await oldOwner.persist(type, "m", 0, [evt("m1")]);
    await newOwner.fence(type, "m", { epoch: 5, owner: "node-b" });
    await newOwner.fence(type, "m", { epoch: 5, owner: "node-b" });
    const jsm = await jetstreamManager(nc);
    const last = await jsm.streams.getMessage(stream, { last_by_subj: `${stream}.${type}.m` });
    expect([
      last?.header.get(Header.Marker),
      last?.header.get(Header.Epoch),
      last?.header.get(Header.Owner),
    ]).toEqual(["1", "5", "node-b"]);
    expect(last?.data.length).toBe(0);
    const info = await jsm.streams.info(stream, { subjects_filter: `${stream}.${type}.m` });
    expect(info.state.subjects?.[`${stream}.${type}.m`]).toBe(2);
    await expect(oldOwner.fence(type, "m", { epoch: 4 })).rejects.toBeInstanceOf(OwnershipLostError);
    await expect(oldOwner.fence(type, "m", { epoch: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(oldOwner.fence(type, "m", { epoch: 6, owner: "a\r\nb" })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect(() => oldOwner.fenced({ epoch: 1.5 })).toThrow(InvalidArgumentError);
  });

  it("has a fenced view write the marker before its first read, and stamp its events with epoch and owner", async () => {
    const type = uniqueTypeName();
    await oldOwner.persist(type, "v", 0, [evt("v1")]);
    const view = newOwner.fenced({ epoch: 7, owner: "node-c" });
    expect(supportsRetention(view)).toBe(true);
    expect(await texts(view as unknown as NatsEvtLog, type, "v")).toEqual(["v1"]);
    await expect(oldOwner.persist(type, "v", 1, [evt("late")])).rejects.toBeInstanceOf(SeqNoConflictError);
    await view.persist(type, "v", 1, [evt("v2")]);
    const jsm = await jetstreamManager(nc);
    const last = await jsm.streams.getMessage(stream, { last_by_subj: `${stream}.${type}.v` });
    expect([last?.header.get(Header.Epoch), last?.header.get(Header.Owner)]).toEqual(["7", "node-c"]);
    const stale = oldOwner.fenced({ epoch: 6 });
    await expect(stale.persist(type, "v", 2, [evt("stale")])).rejects.toBeInstanceOf(OwnershipLostError);
    expect(await texts(oldOwner, type, "v")).toEqual(["v1", "v2"]);
  });

  it("lets no write of the previous owner land after the new owner's marker, under a concurrent race", async () => {
    const type = uniqueTypeName();
    const ids = Array.from({ length: 8 }, (_, i) => `r${i}`);
    const acked = new Map<string, string[]>();
    let fenced = false;
    const writers = ids.map(async (id) => {
      let seqNo = 0;
      for (let n = 0; ; n++) {
        const text = `old:${n}`;
        try {
          seqNo = (await oldOwner.persist(type, id, seqNo, [evt(text)], { fence: { epoch: 1 } })).seqNo;
          acked.set(id, [...(acked.get(id) ?? []), text]);
          if (fenced && n > 1000) throw new Error("never fenced out");
          // Commands keep arriving, a few milliseconds apart.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
        } catch (err) {
          if (err instanceof OwnershipLostError) return;
          throw err;
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const heads = await Promise.all(ids.map((id) => newOwner.fence(type, id, { epoch: 2 })));
    fenced = true;
    await Promise.all(writers);
    for (const [index, id] of ids.entries()) {
      // Everything acknowledged is in the log once, and nothing after the marker.
      expect(await texts(newOwner, type, id)).toEqual(acked.get(id) ?? []);
      expect(heads[index]).toBe(acked.get(id)?.length ?? 0);
    }
  });
});
