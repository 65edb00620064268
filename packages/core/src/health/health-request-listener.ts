import type { HealthCheck } from "./health-check.js";

/** The part of `node:http`'s `IncomingMessage` the listener reads. */
export interface HealthRequest {
  readonly url?: string | undefined;
  readonly method?: string | undefined;
}

/** The part of `node:http`'s `ServerResponse` the listener writes. */
export interface HealthResponse {
  /** The status to send. */
  statusCode: number;
  /** Sets a response header. */
  setHeader(name: string, value: string): unknown;
  /** Sends the body and ends the response. */
  end(body?: string): unknown;
}

/**
 * A `node:http` request listener serving `health`: `GET /health/live` answers 200 while the process runs
 * (liveness: nothing is probed), `GET /health/ready` (and `/health`) runs the checks and answers 200 when
 * ready, 503 when not, with the report as JSON; anything else is 404.
 * @example
 * import { createServer } from "node:http";
 * const server = createServer(healthRequestListener(health)).listen(8081);
 */
export function healthRequestListener(
  health: HealthCheck,
): (req: HealthRequest, res: HealthResponse) => void {
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, body: unknown): void => {
      res.statusCode = status;
      res.setHeader("content-type", "application/json");
      res.setHeader("cache-control", "no-store");
      res.end(JSON.stringify(body));
    };
    if (req.method !== undefined && req.method !== "GET" && req.method !== "HEAD") {
      send(405, { error: "method not allowed" });
      return;
    }
    if (path === "/health/live") {
      send(200, { live: true });
      return;
    }
    if (path === "/health/ready" || path === "/health") {
      health.check().then(
        (report) => send(report.ready ? 200 : 503, report),
        (error: unknown) => send(503, { ready: false, error: String(error) }),
      );
      return;
    }
    send(404, { error: "not found" });
  };
}
