import { ConfigurationError, silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog, uniqueTypeName } from "@eventsourced/core/testing";
import { atLeastOnce, Projection } from "@eventsourced/projections";
import { InMemoryProjectionStore } from "@eventsourced/projections/testing";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { type HealthServer, startHealthServer } from "../src/health-server.js";

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("the counter's health endpoint", () => {
  it("is off by default and health.port is validated like every key", () => {
    expect(loadConfig({ env: {} }).config.health.port).toBe(0);
    expect(loadConfig({ env: { APP__HEALTH__PORT: "8081" } }).config.health.port).toBe(8081);
    expect(() => loadConfig({ env: { APP__HEALTH__PORT: "70000" } })).toThrow(ConfigurationError);
    expect(() => loadConfig({ env: { APP__HEALTH__PORT: "70000" } })).toThrow(/health\.port/);
  });

  it("answers ready while the projection runs, and 503 once it stopped", async () => {
    const evtLog = new InMemoryEvtLog();
    const projection = Projection.create<unknown>({
      name: "health-totals",
      evtLog,
      type: uniqueTypeName("counter"),
      binarizer: { evtFromBytes: () => ({}) },
      handler: atLeastOnce({ store: new InMemoryProjectionStore(), handle: () => {} }),
      logger: silentLogger,
    });
    projection.start();
    server = await startHealthServer(0, { evtLog, logName: "memory", projection });
    const url = `http://127.0.0.1:${server.port}/health/ready`;
    await expect.poll(async () => (await fetch(url)).status, { timeout: 10_000 }).toBe(200);
    const report = (await (await fetch(url)).json()) as { evtLogs: Record<string, { status: string }> };
    expect(report.evtLogs.memory?.status).toBe("up");
    await projection.stop();
    const stopped = await fetch(url);
    expect(stopped.status).toBe(503);
    expect(await stopped.json()).toMatchObject({
      ready: false,
      projections: { "health-totals": { status: "down", state: "stopped" } },
    });
  });
});
