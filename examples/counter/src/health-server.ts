import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createHealthCheck,
  type EvtLog,
  type HealthCheck,
  type HealthProjection,
  healthRequestListener,
} from "@eventsourced/core";

/** The `health` section of the configuration. */
export interface HealthConfig {
  readonly health: {
    /** Serve `/health/live` and `/health/ready` on this loopback port; 0: no health server. */
    readonly port: number;
  };
}

/** What the counter reports on: its log, and its projection when it runs one. */
export interface CounterHealthSources {
  readonly evtLog: EvtLog;
  readonly logName: string;
  readonly projection?: HealthProjection | undefined;
}

/** A running health server. */
export interface HealthServer {
  /** The port it listens on (useful with port 0 in tests). */
  readonly port: number;
  readonly health: HealthCheck;
  close(): Promise<void>;
}

/** Starts the health endpoint on `127.0.0.1:port` (a few lines: the check and its `node:http` listener). */
export async function startHealthServer(port: number, sources: CounterHealthSources): Promise<HealthServer> {
  const health = createHealthCheck({
    evtLogs: [{ name: sources.logName, evtLog: sources.evtLog }],
    projections: sources.projection === undefined ? [] : [sources.projection],
  });
  const server: Server = createServer(healthRequestListener(health));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    health,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
