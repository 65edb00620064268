import { InvalidArgumentError, PersistError, SeqNoConflictError } from "@eventsourced/core";
import { uniqueTypeName } from "@eventsourced/core/testing";
import { Header, MAX_EVTS_PER_PERSIST, NatsEvtLog } from "@eventsourced/evtlog-nats";
import { jetstreamManager } from "@nats-io/jetstream";
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

describe("NatsEvtLog on JetStream", () => {
  let nc: NatsConnection;
  const stream = uniqueName("natslog");
  let log: NatsEvtLog;

  beforeAll(async () => {
    nc = await connectTestNats();
    log = await NatsEvtLog.connect({ servers: NATS_URL, stream: { name: stream, subjectPrefix: stream } });
  });
  afterAll(async () => {
    await log?.close();
    await deleteStream(nc, stream);
    await nc.close();
  });

  it("stores one message per persist on <prefix>.<type>.<encoded id>, with seqNo headers and a message id", async () => {
    const type = uniqueTypeName();
    await log.persist(type, "a.b", 0, [evt("1"), evt("2"), evt("3")]);
    await log.persist(type, "a.b", 3, [evt("4")]);
    const jsm = await jetstreamManager(nc);
    const last = await jsm.streams.getMessage(stream, { last_by_subj: `${stream}.${type}.a=2Eb` });
    expect(last?.header.get(Header.FirstSeq)).toBe("4");
    expect(last?.header.get(Header.Count)).toBe("1");
    expect(last?.header.get("Nats-Msg-Id")).toMatch(/^[A-Za-z0-9]{22}$/);
    const first = await jsm.streams.getMessage(stream, { seq: last!.seq - 1 });
    expect([first?.subject, first?.header.get(Header.FirstSeq), first?.header.get(Header.Count)]).toEqual([
      `${stream}.${type}.a=2Eb`,
      "1",
      "3",
    ]);
  });

  it("reads from any seqNo of a long, interleaved history (bisecting to the message that holds it)", async () => {
    const type = uniqueTypeName();
    let last = 0;
    for (let batch = 1; batch <= 40; batch++) {
      const size = (batch % 4) + 1;
      ({ seqNo: last } = await log.persist(
        type,
        "long",
        last,
        Array.from({ length: size }, (_, i) => evt(String(last + i + 1))),
      ));
      await log.persist(type, `noise-${batch}`, 0, [evt("noise")]);
    }
    for (let from = 1; from <= last; from += 3) {
      const records = await collect(log.evtsById(type, "long", { from }));
      expect(records.map((r) => r.seqNo)).toEqual(
        Array.from({ length: last - from + 1 }, (_, i) => from + i),
      );
      expect(new TextDecoder().decode(records[0]!.bytes)).toBe(String(from));
    }
    const bounded = await collect(log.evtsById(type, "long", { from: 17, to: 23 }));
    expect(bounded.map((r) => r.seqNo)).toEqual([17, 18, 19, 20, 21, 22, 23]);
  });

  it("stops reading by id when the signal aborts", async () => {
    const type = uniqueTypeName();
    for (let i = 0; i < 5; i++) await log.persist(type, "s", i, [evt(String(i + 1))]);
    const controller = new AbortController();
    const seen: number[] = [];
    for await (const record of log.evtsById(type, "s", { from: 1, signal: controller.signal })) {
      seen.push(record.seqNo);
      if (record.seqNo === 2) controller.abort();
    }
    expect(seen).toEqual([1, 2]);
  });

  it("refuses more events per persist than one message can number, before writing", async () => {
    const type = uniqueTypeName();
    const many = Array.from({ length: MAX_EVTS_PER_PERSIST + 1 }, () => ({ bytes: new Uint8Array() }));
    await expect(log.persist(type, "x", 0, many)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(await log.lastSeqNo(type, "x")).toBe(0);
  });

  it("fails a persist larger than the server's max payload with a known outcome", async () => {
    const type = uniqueTypeName();
    const err = await log
      .persist(type, "big", 0, [{ bytes: new Uint8Array((nc.info?.max_payload ?? 1_048_576) + 1) }])
      .catch((e) => e);
    expect(err).toBeInstanceOf(PersistError);
    expect(err.outcomeUnknown).toBe(false);
    expect(await log.lastSeqNo(type, "big")).toBe(0);
  });

  it("detects another process's write although its own cache still remembers the entity", async () => {
    const type = uniqueTypeName();
    const other = await NatsEvtLog.connect({
      servers: NATS_URL,
      stream: { name: stream, subjectPrefix: stream },
    });
    await log.persist(type, "shared", 0, [evt("mine")]);
    await other.persist(type, "shared", 1, [evt("theirs")]);
    await expect(log.persist(type, "shared", 1, [evt("stale")])).rejects.toBeInstanceOf(SeqNoConflictError);
    expect(await log.lastSeqNo(type, "shared")).toBe(2);
    expect((await log.persist(type, "shared", 2, [evt("fresh")])).seqNo).toBe(3);
    await expect(other.persist(type, "shared", 2, [evt("stale too")])).rejects.toBeInstanceOf(
      SeqNoConflictError,
    );
    await other.close();
    expect((await collect(log.evtsById(type, "shared", { from: 1 }))).map((r) => r.seqNo)).toEqual([1, 2, 3]);
  });

  it("pipelines persists of many entities on one connection", async () => {
    const type = uniqueTypeName();
    const results = await Promise.all(
      Array.from({ length: 500 }, (_, i) => log.persist(type, `p-${i}`, 0, [evt("a"), evt("b")])),
    );
    expect(results.every((persisted) => persisted.seqNo === 2)).toBe(true);
    expect(await collect(log.evtsByType(type))).toHaveLength(1_000);
  });
});
