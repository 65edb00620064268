// "Health and readiness" in packages/core/README.md, verbatim between the region markers;
// ../health-check.test.ts runs it.
// #region health
import { createServer, type Server } from "node:http";
import {
  createHealthCheck,
  type EvtLog,
  type HealthProjection,
  healthRequestListener,
} from "@eventsourced/core";

export function serveHealth(evtLog: EvtLog, totals: HealthProjection, port: number): Server {
  const health = createHealthCheck({
    evtLogs: [{ name: "postgres", evtLog }], // reachable: one lookup, bounded by timeoutMs (2 s)
    projections: [totals], // running (or standby, or paused), at most maxLagEvents behind
    maxLagEvents: 10_000,
  });
  // GET /health/live: 200 while the process runs; GET /health/ready: 200 or 503 with the JSON report.
  return createServer(healthRequestListener(health)).listen(port);
}
// #endregion health
