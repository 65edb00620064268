import { NatsKvProjectionStore } from "@eventsourced/projections/nats";
import { PostgresProjectionStore } from "@eventsourced/projections/postgres";
import { InMemoryProjectionStore } from "@eventsourced/projections/testing";
import { describeProjectionStoreContract } from "@eventsourced/projections/testing/vitest";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { connectTestNats, uniqueName } from "./support/nats-env.js";
import { dropSchema, namedPool, uniqueSchemaName } from "./support/pg-env.js";

describeProjectionStoreContract("in memory", async () => ({ store: new InMemoryProjectionStore() }));

const schema = uniqueSchemaName("pstore");
let pool: pg.Pool;
let nc: NatsConnection;
const buckets: string[] = [];
beforeAll(async () => {
  pool = await namedPool(`pstore-${schema}`, 4);
  nc = await connectTestNats();
});
afterAll(async () => {
  await pool?.end();
  await dropSchema(schema);
  const kvm = new Kvm(nc);
  for (const bucket of buckets) await (await kvm.open(bucket)).destroy().catch(() => {});
  await nc?.close();
});

describeProjectionStoreContract("PostgreSQL", async () => ({
  store: await PostgresProjectionStore.create({ pool, schema }),
}));

describeProjectionStoreContract("NATS KV", async () => {
  const bucket = uniqueName("pstore");
  buckets.push(bucket);
  return { store: await NatsKvProjectionStore.create({ connection: nc, bucket, storage: "memory" }) };
});
