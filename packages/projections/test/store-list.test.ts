import { NatsKvProjectionStore } from "@eventsourced/projections/nats";
import { PostgresProjectionStore } from "@eventsourced/projections/postgres";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestNats, uniqueName } from "./support/nats-env.js";
import { dropSchema, namedPool, uniqueSchemaName } from "./support/pg-env.js";

const schema = uniqueSchemaName("plist");
const bucket = uniqueName("plist");
let pool: pg.Pool;
let nc: NatsConnection;
beforeAll(async () => {
  pool = await namedPool(`plist-${schema}`, 2);
  nc = await connectTestNats();
});
afterAll(async () => {
  await pool?.end();
  await dropSchema(schema);
  await (await new Kvm(nc).open(bucket)).destroy().catch(() => {});
  await nc?.close();
});

type Listing = {
  claim(name: string, type: string, epoch: number): Promise<unknown>;
  setStatus(name: string, status: "paused"): Promise<void>;
  save(
    fence: { name: string; epoch: number; position: number },
    advance: { position: number; lastEventAt: Date | undefined; deadLetters: [] },
  ): Promise<void>;
  list(): Promise<Array<{ name: string; type: string; position: number; status: string }>>;
};

async function listsEveryProjection(store: Listing): Promise<void> {
  expect(await store.list()).toEqual([]);
  await store.claim("totals", "counter", 0);
  await store.claim("audit", "account", 0);
  await store.save(
    { name: "totals", epoch: 0, position: 0 },
    { position: 7, lastEventAt: new Date(), deadLetters: [] },
  );
  await store.setStatus("audit", "paused");
  const rows = await store.list();
  expect(rows.map((r) => [r.name, r.type, r.position, r.status])).toEqual([
    ["audit", "account", 0, "paused"],
    ["totals", "counter", 7, "running"],
  ]);
}

describe("listing the projections of a store (for operators)", () => {
  it("PostgresProjectionStore.list returns every row by name", async () => {
    await listsEveryProjection(await PostgresProjectionStore.create({ pool, schema }));
  });

  it("NatsKvProjectionStore.list returns every checkpoint by name, not the dead letters", async () => {
    const store = await NatsKvProjectionStore.create({ connection: nc, bucket, storage: "memory" });
    await listsEveryProjection(store);
    const recordedAt = new Date();
    await store.save(
      { name: "audit", epoch: 0, position: 0 },
      {
        position: 3,
        lastEventAt: recordedAt,
        deadLetters: [
          {
            projection: "audit",
            position: 2,
            type: "account",
            id: "a",
            seqNo: 1,
            recordedAt,
            bytes: new Uint8Array([1]),
            error: "boom",
            attempts: 1,
          },
        ],
      },
    );
    expect((await store.list()).map((r) => r.name)).toEqual(["audit", "totals"]);
  });
});
