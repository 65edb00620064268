import { DecodeError, ReadError, type TypedEvtRecord } from "@eventsourced/core";
import { uniqueTypeName } from "@eventsourced/core/testing";
import { NatsEvtLog, Subjects } from "@eventsourced/evtlog-nats";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestNats, deleteStream, NATS_URL, uniqueName } from "./support/nats-test-env.js";

const encoder = new TextEncoder();
const evt = (text: string) => ({ bytes: encoder.encode(text) });

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

// One garbage message on any entity's subject used to end every by-type read of the type with no way past
// it. With `undecodable: "yield"` it becomes one record carrying the error, and the read goes on.
describe("undecodable messages in a by-type read on NATS", () => {
  let nc: NatsConnection;
  const stream = uniqueName("undecodable");
  const subjectPrefix = stream.replaceAll("_", "-");
  let log: NatsEvtLog;
  const type = uniqueTypeName();

  beforeAll(async () => {
    nc = await connectTestNats();
    log = await NatsEvtLog.connect({ servers: NATS_URL, stream: { name: stream, subjectPrefix } });
    await log.persist(type, "a", 0, [evt("a1"), evt("a2")]);
    await jetstream(nc).publish(new Subjects(subjectPrefix).entity(type, "b"), "not an envelope");
    // A token that no encoded id can be ("=" must be followed by two hex digits).
    await jetstream(nc).publish(`${subjectPrefix}.${type}.bad=`, "foreign");
    await log.persist(type, "c", 0, [evt("c1")]);
  });
  afterAll(async () => {
    await log?.close();
    await deleteStream(nc, stream);
    await nc.close();
  });

  it("ends the read with the decoding error by default", async () => {
    await expect(collect(log.evtsByType(type))).rejects.toBeInstanceOf(DecodeError);
  });

  it("hands each undecodable message over as one record carrying its error, then goes on", async () => {
    const records = await collect(log.evtsByType(type, { undecodable: "yield" }));
    expect(records.map((r) => [r.id, r.seqNo, r.undecodable?.code])).toEqual([
      ["a", 1, undefined],
      ["a", 2, undefined],
      ["b", 0, "DECODE_FAILED"],
      [`${subjectPrefix}.${type}.bad=`, 0, "READ_FAILED"],
      ["c", 1, undefined],
    ]);
    expect(records[3]!.undecodable).toBeInstanceOf(ReadError);
    expect(new TextDecoder().decode(records[2]!.bytes)).toBe("not an envelope");
    const positions = records.map((r) => r.position);
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
  });

  it("resumes after an undecodable record without handing it over again, live too", async () => {
    const all = await collect(log.evtsByType(type, { undecodable: "yield" }));
    const controller = new AbortController();
    const seen: TypedEvtRecord[] = [];
    for await (const record of log.evtsByType(type, {
      after: all[2]!.position,
      live: true,
      undecodable: "yield",
      signal: controller.signal,
    })) {
      seen.push(record);
      if (seen.length === 2) controller.abort();
    }
    expect(seen.map((r) => r.position)).toEqual([all[3]!.position, all[4]!.position]);
  });
});
