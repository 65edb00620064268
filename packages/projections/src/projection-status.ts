/**
 * What an instance is doing. `starting`: claiming its checkpoint; `standby`: waiting for the lease (another instance runs the projection);
 * `paused`: the stored status says so (any instance that takes over stays paused); `failed`: a poison event
 * stopped it (outcome `"stop"`; `resume()` retries) or it was fenced (final).
 */
export type ProjectionState = "idle" | "starting" | "standby" | "running" | "paused" | "failed" | "stopped";

/** A snapshot of {@link Projection.status}. */
export interface ProjectionStatus {
  readonly state: ProjectionState;
  /** Why it failed; while running, the infrastructure failure it is retrying, if any. */
  readonly error?: Error | undefined;
  /** Position of the last event applied. */
  readonly position: number;
  /** Position stored as the checkpoint (behind `position` in at-least-once mode until the next save). */
  readonly storedPosition: number;
  /** Lease epoch this instance runs under (0 without a lease). */
  readonly epoch: number;
}

/** How far behind the log a projection is, both sides measured by the log. */
export interface ProjectionLag {
  /**
   * Head position − applied position, in the log's position units: events on the in-memory log, an upper
   * bound on events on PostgreSQL (other types share the sequence), and on NATS 65,536 per stream message.
   */
  readonly events: number;
  /** recordedAt of the head − recordedAt of the last applied event; undefined before the first event. */
  readonly ms: number | undefined;
  readonly headPosition: number;
  readonly position: number;
}
