import type { CommandEnd, CommandObserver, PassivationInfo } from "@eventsourced/core";

/**
 * Plain counters of one entity type, incremented by the hooks (a field increment, no allocation) and read
 * by the observable instruments at collection time.
 */
export class TypeCounters {
  readonly typeName: string;
  accepted = 0;
  rejected = 0;
  duplicate = 0;
  failed = 0;
  events = 0;
  conflicts = 0;
  recoveries = 0;
  recoveryFailures = 0;
  readonly passivations: Record<PassivationInfo["reason"], number> = { idle: 0, limit: 0, explicit: 0 };
  /** The observer of a command that is neither traced nor sampled: it only counts (shared, no allocation). */
  readonly counting: CommandObserver;

  constructor(typeName: string) {
    this.typeName = typeName;
    this.counting = { timed: false, ended: (end) => this.count(end) };
  }

  count(end: CommandEnd): void {
    this[end.outcome]++;
    this.events += end.events;
  }
}

/** The counters of every entity type seen, created on first use. */
export class CountersByType {
  readonly #byType = new Map<string, TypeCounters>();
  // Most processes command one type at a time: skip the map lookup for a repeat.
  #last: TypeCounters | undefined;

  of(typeName: string): TypeCounters {
    const last = this.#last;
    if (last !== undefined && last.typeName === typeName) return last;
    let counters = this.#byType.get(typeName);
    if (counters === undefined) {
      counters = new TypeCounters(typeName);
      this.#byType.set(typeName, counters);
    }
    this.#last = counters;
    return counters;
  }

  all(): IterableIterator<TypeCounters> {
    return this.#byType.values();
  }
}
