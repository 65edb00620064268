import { silentLogger } from "@eventsourced/core";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { atLeastOnce, Projection } from "@eventsourced/projections";
import { NatsKvProjectionStore } from "@eventsourced/projections/nats";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Deposited, deposit, depositBinarizer } from "./support/fixtures.js";
import { connectTestNats, deleteStream, uniqueName } from "./support/nats-env.js";

// A lone at-least-once projection with its checkpoint in NATS KV polls its stored status while it saves
// checkpoints. A status read answered before a save but completing after it must not make the store's
// cache older than the server and the next save take the projection for fenced (found by an audit: every
// run stopped with PROJECTION_FENCED within 4-72 events, with no other instance anywhere).

describe("NATS KV projection store: status polls racing checkpoint saves", () => {
  let nc: NatsConnection;
  const name = uniqueName("kvrace");
  beforeAll(async () => {
    nc = await connectTestNats();
  });
  afterAll(async () => {
    await deleteStream(nc, name);
    await deleteStream(nc, `KV_${name}_proj`);
    await nc.close();
  });

  it("a lone projection saving every event and polling every 5 ms is never fenced", async () => {
    const log = await NatsEvtLog.connect({
      connection: nc,
      stream: { name, subjectPrefix: name },
      logger: silentLogger,
    });
    const store = await NatsKvProjectionStore.create({ connection: nc, bucket: `${name}_proj` });
    let handled = 0;
    const projection = Projection.create<Deposited>({
      name: "alo",
      evtLog: log,
      type: "acct",
      binarizer: depositBinarizer,
      handler: atLeastOnce<Deposited>({
        store,
        saveAfterEvents: 1,
        handle: (evts) => {
          handled += evts.length;
        },
      }),
      batch: { maxEvents: 5, maxWaitMs: 1 },
      statusPollMs: 5,
      logger: silentLogger,
    });
    projection.start();
    try {
      for (let seq = 0; seq < 300; seq++) {
        await log.persist("acct", "a1", seq, [deposit(1)]);
        expect(projection.status.error?.message).toBeUndefined();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      const head = (await log.headOfType("acct"))!.position;
      await projection.waitFor(head);
      expect(projection.status.state).toBe("running");
      expect(handled).toBeGreaterThanOrEqual(300);
    } finally {
      await projection.stop();
      await log.close();
    }
  }, 60_000);
});

describe("NATS KV projection store options", () => {
  it("refuses options without a connection with ConfigurationError naming it", async () => {
    for (const options of [{}, { servers: "nats://127.0.0.1:4222" }, null]) {
      await expect(NatsKvProjectionStore.create(options as never)).rejects.toMatchObject({
        code: "CONFIGURATION_INVALID",
        key: "connection",
      });
    }
  });
});
