import { InvalidArgumentError } from "../errors/index.js";
import type { HealthCheckResult, HealthReport, ProjectionHealth } from "./health-report.js";
import type { HealthEvtLog, HealthLeaseHolder, HealthProjection } from "./health-sources.js";

const DEFAULT_TIMEOUT_MS = 2_000;
// An entity no application has: the probe is one indexed lookup that finds nothing.
const PROBE_TYPE = "eventsourced-health";
const PROBE_ID = "probe";

/** Options of {@link createHealthCheck}. */
export interface HealthCheckOptions {
  /** Logs that must answer for the process to be ready. */
  readonly evtLogs?: readonly HealthEvtLog[] | undefined;
  /** Projections that must be `running` (or `standby`, or `paused` by an operator) and within `maxLagEvents`. */
  readonly projections?: readonly HealthProjection[] | undefined;
  /** A projection further behind than this many events is down. Default: no limit. */
  readonly maxLagEvents?: number | undefined;
  /** Lease keepers whose leases the report lists. */
  readonly leases?: readonly HealthLeaseHolder[] | undefined;
  /** Custom checks: up when the promise resolves, down when it rejects. */
  readonly checks?: Readonly<Record<string, () => Promise<unknown>>> | undefined;
  /** A probe that has not answered after this many milliseconds is down. Default 2,000. */
  readonly timeoutMs?: number | undefined;
}

/** Reports the health of a process (see {@link createHealthCheck}). */
export interface HealthCheck {
  /** Runs every probe concurrently (each bounded by `timeoutMs`); never rejects. */
  check(): Promise<HealthReport>;
}

const HEALTHY_STATES = new Set(["running", "standby", "paused"]);

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function probe<T>(
  run: () => Promise<T>,
  timeoutMs: number,
): Promise<[T | undefined, HealthCheckResult]> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const value = await Promise.race([run(), timeout]);
    return [value, { status: "up", durationMs: performance.now() - started }];
  } catch (error) {
    return [undefined, { status: "down", error: message(error), durationMs: performance.now() - started }];
  } finally {
    clearTimeout(timer);
  }
}

async function projectionHealth(
  projection: HealthProjection,
  timeoutMs: number,
  maxLagEvents: number,
): Promise<ProjectionHealth> {
  const { state, error } = projection.status;
  const [lag, result] = await probe(() => projection.lag(), timeoutMs);
  const line = { state, lagEvents: lag?.events, lagMs: lag?.ms, durationMs: result.durationMs };
  if (!HEALTHY_STATES.has(state)) {
    return { ...line, status: "down", error: error === undefined ? `projection is ${state}` : error.message };
  }
  if (result.status === "down") return { ...line, status: "down", error: `lag unknown: ${result.error}` };
  if (lag !== undefined && lag.events > maxLagEvents) {
    return { ...line, status: "down", error: `${lag.events} events behind (limit ${maxLagEvents})` };
  }
  return { ...line, status: "up" };
}

function checkOptions(options: HealthCheckOptions): void {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(`health check options must be an object, got ${String(options)}`);
  }
  const { timeoutMs, maxLagEvents } = options;
  if (timeoutMs !== undefined && !(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new InvalidArgumentError(`health timeoutMs must be a number > 0, got ${String(timeoutMs)}`);
  }
  if (maxLagEvents !== undefined && !(maxLagEvents >= 0)) {
    throw new InvalidArgumentError(`health maxLagEvents must be >= 0, got ${String(maxLagEvents)}`);
  }
  const names = new Set<string>();
  for (const { name } of [...(options.evtLogs ?? []), ...(options.projections ?? [])]) {
    if (typeof name !== "string" || name === "")
      throw new InvalidArgumentError("every health source needs a name");
    if (names.has(name))
      throw new InvalidArgumentError(`two health sources are named ${JSON.stringify(name)}`);
    names.add(name);
  }
  for (const [name, run] of Object.entries(options.checks ?? {})) {
    if (typeof run !== "function") {
      throw new InvalidArgumentError(
        `health check ${JSON.stringify(name)} must be a function, got ${typeof run}`,
      );
    }
  }
}

/**
 * A readiness report over the process's event logs (reachable), projections (running and their lag) and
 * leases (held), plus custom checks. Serve it with {@link healthRequestListener}.
 * @throws InvalidArgumentError for a bad timeout or lag limit, or two sources with one name.
 * @example
 * const health = createHealthCheck({
 *   evtLogs: [{ name: "postgres", evtLog }],
 *   projections: [totals],
 *   maxLagEvents: 10_000,
 * });
 * const report = await health.check(); // { ready: true, evtLogs: { postgres: { status: "up", ... } }, ... }
 */
export function createHealthCheck(options: HealthCheckOptions): HealthCheck {
  checkOptions(options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxLagEvents = options.maxLagEvents ?? Number.POSITIVE_INFINITY;
  const evtLogs = [...(options.evtLogs ?? [])];
  const projections = [...(options.projections ?? [])];
  const leases = [...(options.leases ?? [])];
  const checks = Object.entries(options.checks ?? {});
  return {
    async check(): Promise<HealthReport> {
      const [logResults, projectionResults, checkResults] = await Promise.all([
        Promise.all(
          evtLogs.map(({ evtLog }) => probe(() => evtLog.lastSeqNo(PROBE_TYPE, PROBE_ID), timeoutMs)),
        ),
        Promise.all(projections.map((p) => projectionHealth(p, timeoutMs, maxLagEvents))),
        Promise.all(checks.map(([, run]) => probe(run, timeoutMs))),
      ]);
      const report: HealthReport = {
        ready: false,
        checkedAt: new Date().toISOString(),
        evtLogs: Object.fromEntries(evtLogs.map(({ name }, i) => [name, logResults[i]![1]])),
        projections: Object.fromEntries(projections.map(({ name }, i) => [name, projectionResults[i]!])),
        leases: Object.fromEntries(
          leases.map((holder) => [holder.owner, holder.held.map(({ key, epoch }) => ({ key, epoch }))]),
        ),
        checks: Object.fromEntries(checks.map(([name], i) => [name, checkResults[i]![1]])),
      };
      const all = [
        ...Object.values(report.evtLogs),
        ...Object.values(report.projections),
        ...Object.values(report.checks),
      ];
      return { ...report, ready: all.every((r) => r.status === "up") };
    },
  };
}
