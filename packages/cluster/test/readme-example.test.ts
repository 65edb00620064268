import { afterAll, describe, expect, it } from "vitest";
import { NATS_URL, uniqueName } from "../../evtlog-nats/test/support/nats-test-env.js";
import { DATABASE_URL, dropSchema, uniqueSchemaName } from "../../evtlog-postgres/test/pg-test-database.js";
import { sendFromGateway, startCounterNode } from "./readme/cluster.js";

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
});
