import { ErrorCode, isEventSourcedError, PersistError } from "@eventsourced/core";
import { uniqueTypeName } from "@eventsourced/core/testing";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestNats, deleteStream, NATS_URL, uniqueName } from "./support/nats-test-env.js";

const evt = (text: string) => ({ bytes: new TextEncoder().encode(text) });

async function errorOf(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("NatsEvtLog on a connection passed in by the caller", () => {
  let admin: NatsConnection;
  const stream = uniqueName("callerconn");

  beforeAll(async () => {
    admin = await connectTestNats();
  });
  afterAll(async () => {
    await deleteStream(admin, stream);
    await admin.close();
  });

  async function logOnOwnConnection(): Promise<{ nc: NatsConnection; log: NatsEvtLog }> {
    const nc = await connectTestNats();
    const log = await NatsEvtLog.connect({ connection: nc, stream: { name: stream, subjectPrefix: stream } });
    return { nc, log };
  }

  it("fails a persist after the caller closed the connection with a known outcome", async () => {
    const { nc, log } = await logOnOwnConnection();
    const type = uniqueTypeName();
    await log.persist(type, "x", 0, [evt("1")]);
    await nc.close();
    const err = await log.persist(type, "x", 1, [evt("2")]).catch((e) => e);
    expect(err).toBeInstanceOf(PersistError);
    expect(err.outcomeUnknown).toBe(false);
  });

  it("fails a persist while the caller drains the connection with a known outcome (nothing is sent)", async () => {
    const { nc, log } = await logOnOwnConnection();
    const type = uniqueTypeName();
    // The entity's last message is remembered, so the persist goes straight to publishing.
    await log.persist(type, "x", 0, [evt("1")]);
    const drained = nc.drain();
    const err = await log.persist(type, "x", 1, [evt("2")]).catch((e) => e);
    await drained;
    expect(err).toBeInstanceOf(PersistError);
    expect(err.outcomeUnknown).toBe(false);
    const reader = await NatsEvtLog.connect({
      connection: admin,
      stream: { name: stream, subjectPrefix: stream },
    });
    expect(await reader.lastSeqNo(type, "x")).toBe(1);
  });
});

describe("NatsEvtLog with input it cannot send", () => {
  let nc: NatsConnection;
  const stream = uniqueName("badinput");
  let log: NatsEvtLog;

  beforeAll(async () => {
    nc = await connectTestNats();
    log = await NatsEvtLog.connect({ connection: nc, stream: { name: stream, subjectPrefix: stream } });
  });
  afterAll(async () => {
    await log?.close();
    await deleteStream(nc, stream);
    await nc.close();
  });

  it("fails a message that fits max_payload only without its headers with a known outcome", async () => {
    const type = uniqueTypeName();
    const maxPayload = nc.info?.max_payload ?? 1_048_576;
    // The body (event plus a few bytes of envelope) stays under max_payload; the headers push it over.
    const err = await log
      .persist(type, "big", 0, [{ bytes: new Uint8Array(maxPayload - 40) }])
      .catch((e) => e);
    expect(err).toBeInstanceOf(PersistError);
    expect(err.outcomeUnknown).toBe(false);
    expect(await log.lastSeqNo(type, "big")).toBe(0);
  });

  it("refuses event bytes that are not a Uint8Array with InvalidArgumentError", async () => {
    const type = uniqueTypeName();
    const err = await errorOf(() => log.persist(type, "s", 0, [{ bytes: "abc" as unknown as Uint8Array }]));
    expect(isEventSourcedError(err, ErrorCode.InvalidArgument)).toBe(true);
    expect(await log.lastSeqNo(type, "s")).toBe(0);
  });

  it("refuses invalid persist arguments with InvalidArgumentError", async () => {
    const type = uniqueTypeName();
    for (const expected of [-1, 1.5, Number.NaN]) {
      const err = await errorOf(() => log.persist(type, "x", expected, [evt("x")]));
      expect(isEventSourcedError(err, ErrorCode.InvalidArgument), `${expected}`).toBe(true);
    }
  });

  it("reports invalid read arguments when iteration starts, never at the call", async () => {
    const reads = [
      () => log.evtsById("args", "nul\u0000", { from: 1 }),
      () => log.evtsById("bad.type", "x", { from: 1 }),
      () => log.evtsById("args", "x", { from: 0 }),
      () => log.evtsById("args", "x", { from: Number.NaN }),
      () => log.evtsById("args", "x", { from: 1, to: Number.NaN }),
      () => log.evtsById("args", "x", { from: 1, to: 2.5 }),
      () => log.evtsByType("bad.type"),
      () => log.evtsByType("args", { after: -1 }),
      () => log.evtsByType("args", { after: Number.NaN }),
    ];
    for (const [index, read] of reads.entries()) {
      let iterable: AsyncIterable<unknown> | undefined;
      expect(() => {
        iterable = read();
      }, `read ${index}`).not.toThrow();
      const err = await errorOf(() => iterable![Symbol.asyncIterator]().next());
      expect(isEventSourcedError(err, ErrorCode.InvalidArgument), `read ${index}`).toBe(true);
    }
  });
});

describe("NatsEvtLog close", () => {
  it("ends a live by-type reader, as the PostgreSQL log does", async () => {
    const admin = await connectTestNats();
    const stream = uniqueName("closelive");
    const log = await NatsEvtLog.connect({
      servers: NATS_URL,
      stream: { name: stream, subjectPrefix: stream },
    });
    try {
      const type = uniqueTypeName();
      await log.persist(type, "x", 0, [evt("1")]);
      const seen: number[] = [];
      const reader = (async () => {
        for await (const record of log.evtsByType(type, { live: true })) seen.push(record.seqNo);
      })();
      while (seen.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await log.close();
      const ended = await Promise.race([
        reader.then(() => "ended"),
        new Promise((resolve) => setTimeout(() => resolve("still reading after 10 s"), 10_000)),
      ]);
      expect(ended).toBe("ended");
      expect(seen).toEqual([1]);
    } finally {
      await log.close();
      await deleteStream(admin, stream);
      await admin.close();
    }
  });
});
