import type { ClusterRoutingError, ShardTenure } from "@eventsourced/cluster";
import { type EvtLog, isEventSourcedError, type NewEvt, type Persisted } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { ClusterEnv, eventually, increments } from "./support/cluster-env.js";

/** A log whose writes for `hung` ids wait until `open()`; with `tenure`, it then refuses them once the tenure ended (as strict fencing does). */
class GatedLog implements EvtLog {
  readonly hung = new Set<string>();
  waiting = 0;
  #open!: () => void;
  readonly #gate = new Promise<void>((resolve) => {
    this.#open = resolve;
  });

  constructor(
    readonly inner: EvtLog,
    readonly tenure?: ShardTenure,
    readonly shared?: GatedLog,
  ) {}

  open(): void {
    this.#open();
  }

  async persist(type: string, id: string, expected: number, evts: readonly NewEvt[]): Promise<Persisted> {
    const gate = this.shared ?? this;
    if (gate.hung.has(id)) {
      gate.hung.delete(id);
      gate.waiting++;
      await gate.#gate;
      if (this.tenure !== undefined && !this.tenure.isValid()) throw new Error("superseded epoch (fenced)");
    }
    return this.inner.persist(type, id, expected, evts);
  }

  lastSeqNo(type: string, id: string): Promise<number> {
    return this.inner.lastSeqNo(type, id);
  }

  evtsById(...args: Parameters<EvtLog["evtsById"]>) {
    return this.inner.evtsById(...args);
  }

  evtsByType(...args: Parameters<EvtLog["evtsByType"]>) {
    return this.inner.evtsByType(...args);
  }
}

describe("Bounded handover", () => {
  let env: ClusterEnv;
  afterEach(async () => {
    await env?.teardown();
  });

  it("with strict fencing, gives up on an entity stuck in a write after handoverTimeoutMs; its late write is refused", async () => {
    env = await new ClusterEnv().setup();
    const base = new InMemoryEvtLog();
    const gate = new GatedLog(base);
    const options = {
      handoverTimeoutMs: 300,
      fenceLog: (log: EvtLog, tenure: ShardTenure) => new GatedLog(log, tenure, gate),
    };
    const a = env.node(base, options);
    await a.start();
    await eventually(() => a.shards.length === 16);
    gate.hung.add("stuck");
    const stuck = a.send("stuck", { type: "inc", by: 1 }, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    await eventually(() => gate.waiting === 1);
    await a.stop(); // a liveness bound: without handoverTimeoutMs this never resolves
    expect(a.state).toBe("stopped");
    const b = env.node(base, options);
    await b.start();
    await eventually(() => b.shards.length === 16);
    expect(await b.send("stuck", { type: "inc", by: 2 })).toMatchObject({ kind: "accepted", reply: 2 });
    gate.open(); // the old owner's write arrives late: refused
    // Its write had gone out when the node stopped: the caller cannot be told it had no effect.
    const error = await stuck;
    expect(isEventSourcedError(error, "ROUTING_FAILED"), String(error)).toBe(true);
    expect((error as ClusterRoutingError).outcomeUnknown).toBe(true);
    expect((error as Error).cause).toMatchObject({ code: "CLUSTER_STOPPED" });
    expect(await increments(base, env.typeName, "stuck")).toEqual([2]);
  });

  it("without strict fencing, keeps the stuck shard's lease until its entity stops", async () => {
    env = await new ClusterEnv().setup();
    const base = new InMemoryEvtLog();
    const gated = new GatedLog(base);
    const options = { handoverTimeoutMs: 200, fenceLog: (log: EvtLog) => log };
    const a = env.node(gated, options);
    await a.start();
    await eventually(() => a.shards.length === 16);
    gated.hung.add("stuck");
    const stuck = a.send("stuck", { type: "inc", by: 1 }, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    await eventually(() => gated.waiting === 1);
    let stopped = false;
    const stopping = a.stop().then(() => {
      stopped = true;
    });
    const b = env.node(gated, options);
    await b.start();
    await eventually(() => b.shards.length === 15); // every shard but the stuck one
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(stopped).toBe(false);
    expect(b.shards).toHaveLength(15);
    gated.open();
    await stopping;
    await eventually(() => b.shards.length === 16);
    await stuck;
    expect(await b.send("stuck", { type: "inc", by: 2 })).toMatchObject({ kind: "accepted" });
    expect((await increments(base, env.typeName, "stuck")).at(-1)).toBe(2);
  });
});
