import type { RegistryStats } from "@eventsourced/core";

/** A registry whose gauges are reported (structurally an `EntityRegistry`). */
export interface ObservedRegistry {
  readonly typeName: string;
  readonly stats: RegistryStats;
}

/** A projection whose position, lag and counters are reported (structurally a `Projection`). */
export interface ObservedProjection {
  readonly name: string;
  readonly type: string;
  readonly status: { readonly position: number };
  readonly stats: {
    readonly events: number;
    readonly deadLettered: number;
    readonly handlerFailures: number;
  };
  /** How far behind the log's head it is (`Projection.lag()`). */
  lag(): Promise<{ readonly events: number; readonly ms: number | undefined }>;
}
