import type { LeaseEventKind } from "@eventsourced/core";
import type {
  BatchObservableResult,
  Histogram,
  Meter,
  Observable,
  ObservableCounter,
  ObservableGauge,
} from "@opentelemetry/api";
import { Attr } from "./attributes.js";
import type { ObservedProjection, ObservedRegistry } from "./observed-sources.js";
import type { CountersByType } from "./type-counters.js";

/** What the observable instruments read at collection time. */
export interface ObservedState {
  readonly counters: CountersByType;
  readonly leaseEvents: Readonly<Record<LeaseEventKind, number>>;
  readonly leasesHeld: () => number;
  readonly registries: ReadonlySet<ObservedRegistry>;
  readonly projections: ReadonlySet<ObservedProjection>;
}

/** The instruments of one instrumentation. */
export interface RuntimeInstruments {
  readonly commandDuration: Histogram;
  readonly persistDuration: Histogram;
  readonly persistBatchSize: Histogram;
  readonly recoveryDuration: Histogram;
  readonly recoveryEvents: Histogram;
  readonly projectionBatchDuration: Histogram;
  readonly projectionBatchSize: Histogram;
  /** Stops the observable callbacks. */
  readonly close: () => void;
}

type Counters = Record<string, ObservableCounter>;
type Gauges = Record<string, ObservableGauge>;

function observeCounters(result: BatchObservableResult, c: Counters, g: Gauges, state: ObservedState): void {
  for (const t of state.counters.all()) {
    const type = { [Attr.entityType]: t.typeName };
    for (const outcome of ["accepted", "rejected", "duplicate", "failed"] as const) {
      result.observe(c.commands!, t[outcome], { ...type, [Attr.commandOutcome]: outcome });
    }
    result.observe(c.events!, t.events, type);
    result.observe(c.conflicts!, t.conflicts, type);
    result.observe(c.recoveries!, t.recoveries - t.recoveryFailures, {
      ...type,
      [Attr.recoveryOutcome]: "ok",
    });
    result.observe(c.recoveries!, t.recoveryFailures, { ...type, [Attr.recoveryOutcome]: "failed" });
    for (const [reason, n] of Object.entries(t.passivations)) {
      result.observe(c.passivations!, n, { ...type, [Attr.passivationReason]: reason });
    }
  }
  for (const [event, n] of Object.entries(state.leaseEvents)) {
    result.observe(c.leaseEvents!, n, { [Attr.leaseEvent]: event });
  }
  result.observe(g.leasesHeld!, state.leasesHeld());
  for (const registry of state.registries) {
    const type = { [Attr.entityType]: registry.typeName };
    const stats = registry.stats;
    result.observe(g.active!, stats.active, type);
    result.observe(g.recovering!, stats.spawning, type);
  }
}

async function observeProjections(
  result: BatchObservableResult,
  c: Counters,
  g: Gauges,
  state: ObservedState,
) {
  await Promise.all(
    [...state.projections].map(async (p) => {
      const attributes = { [Attr.projectionName]: p.name, [Attr.entityType]: p.type };
      result.observe(g.projectionPosition!, p.status.position, attributes);
      result.observe(c.projectionEvents!, p.stats.events, attributes);
      result.observe(c.deadLetters!, p.stats.deadLettered, attributes);
      try {
        const lag = await p.lag();
        result.observe(g.lagEvents!, lag.events, attributes);
        if (lag.ms !== undefined) result.observe(g.lagDuration!, lag.ms / 1_000, attributes);
      } catch {
        // The log is away: no lag point this time (the health check reports it).
      }
    }),
  );
}

/** Creates the histograms and the observable instruments of `meter`, fed by `state`. */
export function createRuntimeInstruments(meter: Meter, state: ObservedState): RuntimeInstruments {
  const seconds = (name: string, description: string) =>
    meter.createHistogram(name, { unit: "s", description });
  const counter = (name: string, description: string, unit = "{event}") =>
    meter.createObservableCounter(name, { unit, description });
  const gauge = (name: string, description: string, unit: string) =>
    meter.createObservableGauge(name, { unit, description });
  const c: Counters = {
    commands: counter("es.command.count", "Commands answered, by entity type and outcome.", "{command}"),
    events: counter("es.events.persisted", "Events persisted by commands, by entity type."),
    conflicts: counter("es.conflicts", "Persists refused by a seqNo conflict, by entity type.", "{conflict}"),
    recoveries: counter("es.recovery.count", "Recoveries, by entity type and outcome.", "{recovery}"),
    passivations: counter("es.entity.passivations", "Passivations, by entity type and reason.", "{entity}"),
    leaseEvents: counter("es.lease.events", "Leases acquired, released, lost, and writes fenced.", "{event}"),
    projectionEvents: counter("es.projection.events", "Events applied by a projection."),
    deadLetters: counter("es.projection.dead_letters", "Events a projection dead-lettered."),
  };
  const g: Gauges = {
    leasesHeld: gauge("es.lease.held", "Leases this process holds now.", "{lease}"),
    active: gauge("es.entity.active", "Entities serving commands now, by entity type.", "{entity}"),
    recovering: gauge("es.entity.recovering", "Entities recovering now, by entity type.", "{entity}"),
    projectionPosition: gauge(
      "es.projection.position",
      "The position a projection has applied.",
      "{position}",
    ),
    lagEvents: gauge(
      "es.projection.lag.events",
      "Log positions between a projection and the head.",
      "{event}",
    ),
    lagDuration: gauge("es.projection.lag.duration", "Log time between a projection and the head.", "s"),
  };
  const callback = async (result: BatchObservableResult): Promise<void> => {
    observeCounters(result, c, g, state);
    await observeProjections(result, c, g, state);
  };
  const observables: Observable[] = [...Object.values(c), ...Object.values(g)];
  meter.addBatchObservableCallback(callback, observables);
  return {
    commandDuration: seconds(
      "es.command.duration",
      "Command handling time (sampled), by entity type and outcome.",
    ),
    persistDuration: seconds("es.persist.duration", "Time of one persist of a command's events (sampled)."),
    persistBatchSize: meter.createHistogram("es.persist.batch.size", {
      unit: "{event}",
      description: "Events per persist (sampled).",
    }),
    recoveryDuration: seconds("es.recovery.duration", "Recovery time, by entity type and snapshot use."),
    recoveryEvents: meter.createHistogram("es.recovery.events", {
      unit: "{event}",
      description: "Events folded per recovery.",
    }),
    projectionBatchDuration: seconds("es.projection.batch.duration", "Time to apply a projection batch."),
    projectionBatchSize: meter.createHistogram("es.projection.batch.size", {
      unit: "{event}",
      description: "Events per projection batch.",
    }),
    close: () => meter.removeBatchObservableCallback(callback, observables),
  };
}
