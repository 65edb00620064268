import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { ClusterEnv, eventually } from "./support/cluster-env.js";

describe("stopOnSignals", () => {
  let env: ClusterEnv;
  const keep = (): void => {};
  afterEach(async () => {
    process.off("SIGTERM", keep);
    await env?.teardown();
  });

  it("SIGTERM hands the shards over; with another listener the signal is not raised again", async () => {
    env = await new ClusterEnv().setup();
    const log = new InMemoryEvtLog();
    // The application's own listener: the node must then leave the process alone after its handover. Counted
    // from what is there already (test files share their worker process: vitest's isolate is off).
    const before = process.listenerCount("SIGTERM");
    process.on("SIGTERM", keep);
    const a = env.node(log, { stopOnSignals: ["SIGTERM"] });
    const b = env.node(log);
    await a.start();
    await eventually(() => a.shards.length === 16);
    await b.start();
    process.emit("SIGTERM", "SIGTERM");
    await eventually(() => a.state === "stopped" && b.shards.length === 16);
    expect(process.listenerCount("SIGTERM")).toBe(before + 1);
  });
});
