import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createHealthCheck,
  defineEntity,
  EntityRegistry,
  emitAndReply,
  type HealthProjection,
  healthRequestListener,
  InvalidArgumentError,
} from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { afterEach, describe, expect, it } from "vitest";
import { serveHealth } from "./readme/health.js";
import { slowCommands } from "./readme/instrumentation.js";

const counterDefinition = defineEntity<
  number,
  { readonly type: "inc" },
  { readonly by: number },
  number,
  never
>({
  typeName: "healthCounter",
  initialState: () => 0,
  handleCmd: () => emitAndReply<number, { readonly by: number }, number>([{ by: 1 }], (s) => s),
  handleEvt: (state, evt) => state + evt.by,
});

function projection(state: string, events = 0, name = "totals"): HealthProjection {
  return { name, status: { state }, lag: async () => ({ events, ms: events === 0 ? 0 : 1_500 }) };
}

const unreachable = {
  lastSeqNo: () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:1")),
};
const hanging = { lastSeqNo: () => new Promise<number>(() => {}) };

describe("createHealthCheck", () => {
  it("is ready when every log answers and every projection runs within the lag limit", async () => {
    const health = createHealthCheck({
      evtLogs: [{ name: "memory", evtLog: new InMemoryEvtLog() }],
      projections: [projection("running", 3), projection("standby", 0, "other")],
      maxLagEvents: 10,
      leases: [{ owner: "host:1", held: [{ key: "projection.totals", epoch: 7 }] }],
    });
    const report = await health.check();
    expect(report.ready).toBe(true);
    expect(report.evtLogs.memory?.status).toBe("up");
    expect(report.projections.totals).toMatchObject({
      status: "up",
      state: "running",
      lagEvents: 3,
      lagMs: 1_500,
    });
    expect(report.leases).toEqual({ "host:1": [{ key: "projection.totals", epoch: 7 }] });
  });

  it("reports an unreachable log as down with its error, and a log that does not answer in time", async () => {
    const health = createHealthCheck({
      evtLogs: [
        { name: "refused", evtLog: unreachable },
        { name: "silent", evtLog: hanging },
      ],
      timeoutMs: 50,
    });
    const report = await health.check();
    expect(report.ready).toBe(false);
    expect(report.evtLogs.refused).toMatchObject({
      status: "down",
      error: expect.stringContaining("ECONNREFUSED"),
    });
    expect(report.evtLogs.silent).toMatchObject({ status: "down", error: "no answer within 50 ms" });
  });

  it("reports a failed or stopped projection, and one beyond the lag limit, as down", async () => {
    const failed: HealthProjection = {
      name: "failed",
      status: { state: "failed", error: new Error("poison event at 12") },
      lag: async () => ({ events: 0, ms: 0 }),
    };
    const report = await createHealthCheck({
      projections: [failed, projection("stopped", 0, "stopped"), projection("running", 11, "behind")],
      maxLagEvents: 10,
    }).check();
    expect(report.ready).toBe(false);
    expect(report.projections.failed).toMatchObject({ status: "down", error: "poison event at 12" });
    expect(report.projections.stopped).toMatchObject({ status: "down", error: "projection is stopped" });
    expect(report.projections.behind).toMatchObject({ status: "down", error: "11 events behind (limit 10)" });
  });

  it("runs custom checks", async () => {
    const report = await createHealthCheck({
      checks: { ok: async () => {}, broken: () => Promise.reject(new Error("disk full")) },
    }).check();
    expect(report.checks.ok?.status).toBe("up");
    expect(report.checks.broken).toMatchObject({ status: "down", error: "disk full" });
    expect(report.ready).toBe(false);
  });

  it("refuses a bad timeout, a bad lag limit and two sources with one name with InvalidArgumentError", () => {
    expect(() => createHealthCheck({ timeoutMs: 0 })).toThrow(InvalidArgumentError);
    expect(() => createHealthCheck({ maxLagEvents: -1 })).toThrow(InvalidArgumentError);
    expect(() =>
      createHealthCheck({
        evtLogs: [{ name: "totals", evtLog: new InMemoryEvtLog() }],
        projections: [projection("running")],
      }),
    ).toThrow(/two health sources are named "totals"/);
  });
});

describe("healthRequestListener on node:http", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    server = undefined;
  });

  async function serve(ready: boolean): Promise<string> {
    const health = createHealthCheck({
      evtLogs: [{ name: "log", evtLog: ready ? new InMemoryEvtLog() : unreachable }],
    });
    server = createServer(healthRequestListener(health));
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it("answers 200 with the report when ready, 503 when not, and liveness without probing", async () => {
    const up = await serve(true);
    const ready = await fetch(`${up}/health/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { ready: boolean }).ready).toBe(true);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    const down = await serve(false);
    expect((await fetch(`${down}/health`)).status).toBe(503);
    expect((await fetch(`${down}/health/live`)).status).toBe(200);
    expect((await fetch(`${down}/elsewhere`)).status).toBe(404);
    expect((await fetch(`${down}/health`, { method: "POST" })).status).toBe(405);
  });
});

describe("the core README's health and instrumentation examples", () => {
  it("serveHealth answers ready on the port it was given", async () => {
    const server = serveHealth(new InMemoryEvtLog(), projection("running"), 0);
    await new Promise<void>((resolve) => server.once("listening", resolve));
    const { port } = server.address() as AddressInfo;
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("slowCommands logs the commands slower than its limit", async () => {
    const warned: unknown[] = [];
    const logger = {
      debug: () => {},
      error: () => {},
      warn: (_: string, fields?: unknown) => warned.push(fields),
    };
    const registry = new EntityRegistry(counterDefinition, {
      evtLog: new InMemoryEvtLog(),
      logger,
      instrumentation: slowCommands(logger, 0),
    });
    await registry.send("c-1", { type: "inc" });
    await registry.close();
    expect(warned).toEqual([
      expect.objectContaining({ type: counterDefinition.typeName, cmd: "inc", outcome: "accepted" }),
    ]);
  });
});
