import { ClusterRoutingError, FencedEvtLog, type ShardEnded, shardOf } from "@eventsourced/cluster";
import {
  Entity,
  type EvtLog,
  isEventSourcedError,
  jsonToBytes,
  OwnershipLostError,
  silentLogger,
} from "@eventsourced/core";
import { Kvm } from "@nats-io/kv";
import { afterEach, describe, expect, it } from "vitest";
import { ClusterEnv, counterOf, eventually, increments, postgresLog } from "./support/cluster-env.js";

const foreign = { bytes: jsonToBytes({ type: "increased", by: 100 }), contentType: "application/json" };

describe("Lease loss (L1 fencing)", () => {
  let env: ClusterEnv | undefined;
  let drop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await env?.teardown();
    env = undefined;
    await drop?.();
  });

  function leaseStub() {
    return {
      key: "cluster.c.t.3",
      epoch: 7,
      valid: true,
      isValid() {
        return this.valid;
      },
    };
  }

  it("a write after the lease ended fails with OwnershipLostError and writes nothing", async () => {
    const pg = await postgresLog();
    drop = pg.drop;
    const lease = leaseStub();
    const counter = counterOf("fenced");
    const ref = await Entity.spawn("x", counter, {
      evtLog: new FencedEvtLog(pg.log, lease, 3),
      logger: silentLogger,
    });
    await ref.handleCmd({ type: "inc", by: 1 });
    lease.valid = false;
    const error = await ref.handleCmd({ type: "inc", by: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OwnershipLostError);
    expect((error as Error).message).toMatch(/shard 3 \(lease cluster\.c\.t\.3, epoch 7\) is no longer held/);
    expect(await increments(pg.log, "fenced", "x")).toEqual([1]);
    await ref.stop();
  });

  it("a write that conflicts with the next owner while the lease ends is OwnershipLostError, never re-run", async () => {
    const pg = await postgresLog();
    drop = pg.drop;
    const lease = leaseStub();
    let race = false;
    // The next owner writes first, and our lease ends while our write is on its way.
    const racing: EvtLog = {
      persist: async (type, id, expected, evts) => {
        if (race) {
          race = false;
          await pg.log.persist(type, id, expected, [foreign]);
          lease.valid = false;
        }
        return pg.log.persist(type, id, expected, evts);
      },
      lastSeqNo: (type, id) => pg.log.lastSeqNo(type, id),
      evtsById: (type, id, options) => pg.log.evtsById(type, id, options),
      evtsByType: (type, options) => pg.log.evtsByType(type, options),
    };
    let decided = 0;
    const base = counterOf("fenced");
    const counting = {
      ...base,
      handleCmd: (
        s: number,
        c: Parameters<typeof base.handleCmd>[1],
        x: Parameters<typeof base.handleCmd>[2],
      ) => {
        decided++;
        return base.handleCmd(s, c, x);
      },
    };
    const ref = await Entity.spawn("y", counting, {
      evtLog: new FencedEvtLog(racing, lease, 3),
      maxConflictRetries: 5,
      logger: silentLogger,
    });
    await ref.handleCmd({ type: "inc", by: 1 });
    race = true;
    const error = await ref.handleCmd({ type: "inc", by: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OwnershipLostError);
    expect(isEventSourcedError((error as Error).cause, "SEQNO_CONFLICT")).toBe(true);
    expect(decided).toBe(2);
    expect(ref.stats.conflictRetries).toBe(0);
    expect(await increments(pg.log, "fenced", "y")).toEqual([1, 100]);
    await ref.stop();
  });

  it("a node whose shard lease was taken over stops serving it, and serves it again under a newer epoch once free", async () => {
    env = await new ClusterEnv().setup();
    const pg = await postgresLog();
    drop = pg.drop;
    const ended: ShardEnded[] = [];
    const acquired: { shard: number; epoch: number }[] = [];
    const a = env.node(pg.log, {
      onShardEnded: (e) => ended.push(e),
      onShardAcquired: (e) => acquired.push({ shard: e.shard, epoch: e.epoch }),
    });
    await a.start();
    await eventually(() => a.shards.length === 16);
    expect(await a.send("z", { type: "inc", by: 1 })).toMatchObject({ kind: "accepted" });
    const shard = shardOf("z", 16);
    const key = `cluster.${env.cluster}.${env.typeName}.${shard}`;
    // An intruder takes the lease (as if it had expired): the owner's next renewal is refused.
    const kv = await new Kvm(env.nc).open(env.leaseStore.bucket);
    await kv.purge(key);
    const intruder = await env.leaseStore.tryAcquire(key, "intruder");
    expect(intruder).toBeDefined();
    await eventually(() => ended.some((e) => e.shard === shard && e.reason === "renewal-refused"));
    expect(a.shards).not.toContain(shard);
    const refused = await a.send("z", { type: "inc", by: 1 }, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ClusterRoutingError);
    // The intruder never renews: its lease expires on the server and the node takes the shard back.
    expect(await a.send("z", { type: "inc", by: 2 }, { timeoutMs: 30_000 })).toMatchObject({ reply: 3 });
    const epochs = acquired.filter((e) => e.shard === shard).map((e) => e.epoch);
    expect(epochs).toHaveLength(2);
    expect(epochs[1]).toBeGreaterThan(intruder!.epoch);
    expect(await increments(pg.log, env.typeName, "z")).toEqual([1, 2]);
  });
});
