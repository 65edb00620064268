/** One check of a {@link HealthReport}. */
export interface HealthCheckResult {
  /** `"up"` when it passed, `"down"` when it failed or timed out. */
  readonly status: "up" | "down";
  /** Why it is down (an error's message; never a password or a URL with one). */
  readonly error?: string | undefined;
  /** Milliseconds the probe took. */
  readonly durationMs: number;
}

/** A projection's line of a {@link HealthReport}. */
export interface ProjectionHealth extends HealthCheckResult {
  /** `running`, `standby` (another instance holds the lease), `paused`, `failed`, `stopped` or `idle`. */
  readonly state: string;
  /** Events behind the log's head (see `ProjectionLag.events`), when the lag could be read. */
  readonly lagEvents: number | undefined;
  /** Milliseconds behind the log's head, when known. */
  readonly lagMs: number | undefined;
}

/** What `HealthCheck.check()` found. */
export interface HealthReport {
  /** True when every check is up: the process can take traffic. */
  readonly ready: boolean;
  /** When the report was made (ISO 8601). */
  readonly checkedAt: string;
  /** Each event log by name. */
  readonly evtLogs: Readonly<Record<string, HealthCheckResult>>;
  /** Each projection by name. */
  readonly projections: Readonly<Record<string, ProjectionHealth>>;
  /** The leases held, by owner: informational (a standby holds none and is healthy). */
  readonly leases: Readonly<Record<string, readonly { readonly key: string; readonly epoch: number }[]>>;
  /** Each custom check by name. */
  readonly checks: Readonly<Record<string, HealthCheckResult>>;
}
