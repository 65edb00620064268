import { afterAll, describe, expect, it } from "vitest";
import { connectTestNats, NATS_URL, uniqueName } from "../../evtlog-nats/test/support/nats-test-env.js";
import { DATABASE_URL, dropSchema, uniqueSchemaName } from "../../evtlog-postgres/test/pg-test-database.js";
import { sendFromGateway, startCounterNode, startOnPostgres } from "./readme/cluster.js";
import { eventually } from "./support/cluster-env.js";

describe("the cluster README's examples", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it("two processes' nodes serve a counter; a gateway reads it through a client", async () => {
    const cluster = uniqueName("readme").replace(/[^A-Za-z0-9_-]/g, "_");
    const schema = uniqueSchemaName("readme_cluster");
    const [a, b] = await Promise.all([
      startCounterNode(NATS_URL, DATABASE_URL, schema, cluster),
      startCounterNode(NATS_URL, DATABASE_URL, schema, cluster),
    ]);
    cleanups.push(a.close, b.close, () => dropSchema(schema));
    const id = uniqueName("c");
    expect(await a.inc(id, 2, `${id}-1`)).toMatchObject({ kind: "accepted", reply: 2 });
    expect(await b.inc(id, 3, `${id}-2`)).toMatchObject({ kind: "accepted", reply: 5 });
    expect(await b.inc(id, 3, `${id}-2`)).toMatchObject({ kind: "duplicate" });
    expect(await sendFromGateway(NATS_URL, cluster, id)).toMatchObject({ kind: "accepted", reply: 5 });
  });

  it("a node on PostgreSQL routes over NATS core", async () => {
    const schema = uniqueSchemaName("readme_cluster_pg");
    const nats = await connectTestNats();
    const { node, close } = await startOnPostgres(nats, DATABASE_URL, schema);
    cleanups.push(async () => {
      await close();
      await nats.close();
      await dropSchema(schema);
    });
    await eventually(() => node.shards.length === 256);
    expect(await node.send("c-1", { type: "inc", by: 4 })).toMatchObject({ kind: "accepted", reply: 4 });
  });
});
