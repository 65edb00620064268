import { uniqueTypeName } from "@eventsourced/core/testing";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cutWhileWaiting } from "../../../test/support/fault-proxy.js";
import { ProxiedNats } from "../../../test/support/proxied-nats.js";

// A read whose connection is lost before its answer arrives is sent again as soon as nats.js has
// reconnected: it does not wait out its request timeout (5 s), and it returns what is stored. The log talks
// to a private server through a proxy that can swallow either direction and cut the connection.

const encoder = new TextEncoder();

describe("a read whose connection is lost before the answer", () => {
  let nats: ProxiedNats;
  let log: NatsEvtLog;

  beforeAll(async () => {
    nats = await ProxiedNats.start();
    log = await NatsEvtLog.connect({
      servers: nats.servers,
      stream: { name: "lostreads", subjectPrefix: "lostreads" },
    });
  });
  afterAll(async () => {
    await log?.close().catch(() => {});
    await nats?.stop();
  });

  it("lastSeqNo is read again on the new connection when its answer was lost", async () => {
    const type = uniqueTypeName();
    await log.persist(type, "a", 0, [{ bytes: encoder.encode("1") }, { bytes: encoder.encode("2") }]);
    expect(await cutWhileWaiting(nats.proxy, "toClient", () => log.lastSeqNo(type, "a"))).toBe(2);
  }, 30_000);

  it("lastSeqNo is read again on the new connection when its request never arrived", async () => {
    const type = uniqueTypeName();
    await log.persist(type, "b", 0, [{ bytes: encoder.encode("1") }]);
    expect(await cutWhileWaiting(nats.proxy, "toServer", () => log.lastSeqNo(type, "b"))).toBe(1);
  }, 30_000);

  it("evtsById's lookups are read again on the new connection", async () => {
    const type = uniqueTypeName();
    await log.persist(type, "c", 0, [{ bytes: encoder.encode("first") }]);
    await log.persist(type, "c", 1, [{ bytes: encoder.encode("second") }]);
    const bodies = await cutWhileWaiting(nats.proxy, "toClient", async () => {
      const out: string[] = [];
      for await (const record of log.evtsById(type, "c", { from: 2 }))
        out.push(new TextDecoder().decode(record.bytes));
      return out;
    });
    expect(bodies).toEqual(["second"]);
  }, 30_000);

  it("evtsByType's lookup of the type's last message is read again on the new connection", async () => {
    const type = uniqueTypeName();
    await log.persist(type, "d", 0, [{ bytes: encoder.encode("d1") }]);
    await log.persist(type, "e", 0, [{ bytes: encoder.encode("e1") }]);
    const bodies = await cutWhileWaiting(nats.proxy, "toClient", async () => {
      const out: string[] = [];
      for await (const record of log.evtsByType(type)) out.push(new TextDecoder().decode(record.bytes));
      return out;
    });
    expect(bodies).toEqual(["d1", "e1"]);
  }, 30_000);

  // The consumer's own requests have the JetStream client's fixed 5 s timeout, so this one is bounded by
  // that: the read must be done before the lost create would have timed out.
  it("a read whose consumer create was lost resumes on a new consumer before the create would time out", async () => {
    const type = uniqueTypeName();
    await log.persist(type, "f", 0, [{ bytes: encoder.encode("1") }]);
    await log.persist(type, "f", 1, [{ bytes: encoder.encode("2") }]);
    nats.proxy.swallowToServerContaining = "$JS.API.CONSUMER.CREATE.";
    const started = Date.now();
    const read = (async () => {
      const seqNos: number[] = [];
      for await (const record of log.evtsById(type, "f", { from: 1 })) seqNos.push(record.seqNo);
      return seqNos;
    })();
    read.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    nats.proxy.heal();
    nats.proxy.cut();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"not settled">((resolve) => {
      timer = setTimeout(() => resolve("not settled"), 5_000 - (Date.now() - started));
    });
    const result = await Promise.race([read, timedOut]).finally(() => clearTimeout(timer));
    console.log(`consumer create lost: settled ${Date.now() - started} ms after the read started`);
    expect(result).toEqual([1, 2]);
  }, 30_000);
});
