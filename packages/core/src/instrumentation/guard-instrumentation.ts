import type { CommandEnd, CommandObserver, PersistBatch } from "./command-observer.js";
import type { Instrumentation } from "./instrumentation.js";

/** Where a guarded hook's failure goes: the hook's name and what it threw. */
export type HookFailureReport = (hook: string, error: unknown) => void;

const GUARDED = new WeakSet<Instrumentation>();

/**
 * `instrumentation` with every hook, and every method of the observers its hooks return, made unable to
 * throw: a hook that throws is reported to `report` (the runtime logs it as a warning) and treated as if it
 * had returned nothing. The runtime applies it to any instrumentation it is given (`Entity.spawn`,
 * `EntityRegistry`, `Projection.create`, `LeaseKeeper`), because hooks run on its own path: a tracer that
 * throws once would otherwise leave an entity marked busy for good, or turn a command whose events are
 * durable into a failure its caller retries. Guarding a guarded instrumentation returns it as it is.
 *
 * Cost: a `try` per call; an observer returned for command after command (a shared one that only counts) is
 * wrapped once, not per command.
 */
export function guardInstrumentation(
  instrumentation: Instrumentation,
  report: HookFailureReport,
): Instrumentation {
  if (GUARDED.has(instrumentation)) return instrumentation;
  const i = instrumentation;
  // The last observer and its wrapper: an observer shared by every command (one that only counts) is
  // wrapped once; one per command (a span) gets a small wrapper of its own. (A WeakMap entry per command
  // cost more in collection than the wrapper does.)
  let lastObserver: CommandObserver | undefined;
  let lastWrapped: CommandObserver | undefined;
  const guarded: Instrumentation = {};
  if (i.commandStarted !== undefined) {
    guarded.commandStarted = (cmd) => {
      let observer: CommandObserver | undefined;
      try {
        observer = i.commandStarted!(cmd);
      } catch (error) {
        report("commandStarted", error);
        return undefined;
      }
      if (observer === undefined || observer === null) return undefined;
      if (observer === lastObserver) return lastWrapped;
      lastObserver = observer;
      lastWrapped = new GuardedCommandObserver(observer, report);
      return lastWrapped;
    };
  }
  if (i.recoveryStarted !== undefined) {
    guarded.recoveryStarted = (recovery) => {
      try {
        const observer = i.recoveryStarted!(recovery);
        return observer === undefined ? undefined : new GuardedEnder(observer, "recovery ended", report);
      } catch (error) {
        report("recoveryStarted", error);
        return undefined;
      }
    };
  }
  if (i.projectionBatchStarted !== undefined) {
    guarded.projectionBatchStarted = (batch) => {
      try {
        const observer = i.projectionBatchStarted!(batch);
        return observer === undefined
          ? undefined
          : new GuardedEnder(observer, "projection batch ended", report);
      } catch (error) {
        report("projectionBatchStarted", error);
        return undefined;
      }
    };
  }
  // The hooks that only report (no observer to follow): each wrapped once, here.
  const notify =
    <A>(hook: string, call: (a: A) => void) =>
    (a: A) => {
      try {
        call(a);
      } catch (error) {
        report(hook, error);
      }
    };
  const { passivated, conflict, lease } = i;
  if (passivated !== undefined) guarded.passivated = notify("passivated", passivated.bind(i));
  if (conflict !== undefined) guarded.conflict = notify("conflict", conflict.bind(i));
  if (lease !== undefined) guarded.lease = notify("lease", lease.bind(i));
  GUARDED.add(guarded);
  return guarded;
}

/** An observer with `ended` only (recovery, projection batch), guarded. */
class GuardedEnder<T> {
  readonly #observer: { ended(end: T): void };
  readonly #hook: string;
  readonly #report: HookFailureReport;

  constructor(observer: { ended(end: T): void }, hook: string, report: HookFailureReport) {
    this.#observer = observer;
    this.#hook = hook;
    this.#report = report;
  }

  ended(end: T): void {
    try {
      this.#observer.ended(end);
    } catch (error) {
      this.#report(this.#hook, error);
    }
  }
}

/** A command observer, guarded; `persisted` is present only when the observer follows persists. */
class GuardedCommandObserver implements CommandObserver {
  readonly #observer: CommandObserver;
  readonly #report: HookFailureReport;
  readonly timed: boolean | undefined;
  declare readonly persisted?: (batch: PersistBatch) => void;

  constructor(observer: CommandObserver, report: HookFailureReport) {
    this.#observer = observer;
    this.#report = report;
    let timed: boolean | undefined;
    let follows = false;
    try {
      timed = observer.timed;
      follows = observer.persisted !== undefined;
    } catch (error) {
      report("command observer", error);
    }
    this.timed = timed;
    // Absent unless the observer follows persists: the runtime reads no clock for a persist nobody follows.
    if (follows) this.persisted = (batch) => this.#persisted(batch);
  }

  get headers(): Readonly<Record<string, string>> | undefined {
    try {
      return this.#observer.headers;
    } catch (error) {
      this.#report("command observer headers", error);
      return undefined;
    }
  }

  ended(end: CommandEnd): void {
    try {
      this.#observer.ended(end);
    } catch (error) {
      this.#report("command ended", error);
    }
  }

  #persisted(batch: PersistBatch): void {
    try {
      this.#observer.persisted!(batch);
    } catch (error) {
      this.#report("command persisted", error);
    }
  }
}

/**
 * A {@link HookFailureReport} that warns on `logger`, for the 1st, 10th, 100th, ... failure of each hook (a
 * tracer that fails every call must not flood the log), with the count so far.
 */
export function warnOnHookFailure(logger: {
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
}): HookFailureReport {
  const counts = new Map<string, number>();
  return (hook, error) => {
    const count = (counts.get(hook) ?? 0) + 1;
    counts.set(hook, count);
    if (Number.isInteger(Math.log10(count))) {
      logger.warn("an instrumentation hook threw; the runtime ignored it", { hook, failures: count, error });
    }
  };
}
