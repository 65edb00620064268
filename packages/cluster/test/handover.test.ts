import { ClusterClient, type ShardEnded } from "@eventsourced/cluster";
import type { LeaseLogEntry } from "@eventsourced/leases";
import { overlappingIntervals, validityIntervals } from "@eventsourced/leases/testing";
import { afterEach, describe, expect, it } from "vitest";
import { ClusterEnv, eventually, increments, postgresLog, sharingNodeIds } from "./support/cluster-env.js";

describe("Graceful handover", () => {
  let env: ClusterEnv;
  let drop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await env?.teardown();
    await drop?.();
  });

  it("stop() hands every shard over with 0 failed client requests, each acknowledged command in the log once", async () => {
    env = await new ClusterEnv().setup();
    const pg = await postgresLog();
    drop = pg.drop;
    const ended: ShardEnded[] = [];
    const ownership: LeaseLogEntry[] = [];
    const [a, b, c] = sharingNodeIds(env.typeName, 16, 3).map((nodeId) =>
      env.node(pg.log, {
        nodeId,
        minMembers: 3,
        onShardEnded: (e) => ended.push(e),
        onOwnershipLog: (entry) => ownership.push(entry),
      }),
    ) as [ReturnType<ClusterEnv["node"]>, ReturnType<ClusterEnv["node"]>, ReturnType<ClusterEnv["node"]>];
    await Promise.all([a.start(), b.start(), c.start()]);
    await eventually(() => a.shards.length + b.shards.length + c.shards.length === 16 && a.shards.length > 0);
    const handedOver = a.shards;
    const client = new ClusterClient({
      typeName: env.typeName,
      cluster: env.cluster,
      shardCount: 16,
      nats: env.nc,
    });
    const ids = Array.from({ length: 30 }, (_, i) => `h-${i}`);
    const acked = new Map<string, number>();
    const failures: unknown[] = [];
    let running = true;
    let sent = 0;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; running; i++) {
        const id = ids[(w * 7 + i) % ids.length]!;
        sent++;
        try {
          const result = await client.send(id, { type: "inc", by: 1 }, { commandId: `w${w}-${i}` });
          expect(result.kind).toBe("accepted");
          acked.set(id, (acked.get(id) ?? 0) + 1);
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, w) => worker(w));
    await eventually(() => sent > 100);
    await a.stop();
    const afterStop = sent;
    await eventually(() => sent > afterStop + 100);
    running = false;
    await Promise.all(workers);
    expect(failures).toEqual([]);
    const released = ended.filter((e) => e.owner === a.nodeId);
    expect(released.map((e) => e.reason)).toEqual(handedOver.map(() => "released"));
    expect(released.map((e) => e.shard).sort((x, y) => x - y)).toEqual(handedOver);
    await eventually(() => b.shards.length + c.shards.length === 16);
    for (const id of ids) {
      expect((await increments(pg.log, env.typeName, id)).length).toBe(acked.get(id) ?? 0);
    }
    // No two tenures of a shard were ever valid at the same time, by the nodes' own monotonic logs.
    const intervals = validityIntervals(ownership);
    expect(overlappingIntervals(intervals)).toEqual([]);
    expect(new Set(intervals.map((i) => i.key)).size).toBe(16);
    expect(intervals.length).toBeGreaterThanOrEqual(16 + handedOver.length);
  });

  it("a retried command id is applied once, also by the next owner after a handover", async () => {
    env = await new ClusterEnv().setup();
    const pg = await postgresLog();
    drop = pg.drop;
    const a = env.node(pg.log);
    await a.start();
    await eventually(() => a.shards.length === 16);
    expect(await a.send("r-1", { type: "inc", by: 5 }, { commandId: "once" })).toMatchObject({
      kind: "accepted",
      seqNo: 1,
    });
    expect(await a.send("r-1", { type: "inc", by: 5 }, { commandId: "once" })).toMatchObject({
      kind: "duplicate",
      seqNo: 1,
    });
    const b = env.node(pg.log);
    await b.start();
    await a.stop();
    await eventually(() => b.shards.length === 16);
    expect(await b.send("r-1", { type: "inc", by: 5 }, { commandId: "once" })).toMatchObject({
      kind: "duplicate",
      seqNo: 1,
    });
    expect(await b.send("r-1", { type: "inc", by: 1 }, { commandId: "another" })).toMatchObject({
      kind: "accepted",
      reply: 6,
    });
    expect(await increments(pg.log, env.typeName, "r-1")).toEqual([5, 1]);
  });
});
