import type { CommandObserver } from "./command-observer.js";
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
 */
export function guardInstrumentation(
  instrumentation: Instrumentation,
  report: HookFailureReport,
): Instrumentation {
  if (GUARDED.has(instrumentation)) return instrumentation;
  const i = instrumentation;
  const safely = <T>(hook: string, run: () => T): T | undefined => {
    try {
      return run();
    } catch (error) {
      report(hook, error);
      return undefined;
    }
  };
  const ender = <T>(hook: string, observer: { ended(end: T): void } | undefined) =>
    observer === undefined ? undefined : { ended: (end: T) => safely(hook, () => observer.ended(end)) };
  const guarded: Instrumentation = {
    ...(i.commandStarted && {
      commandStarted: (cmd) => {
        const observer = safely("commandStarted", () => i.commandStarted!(cmd));
        return observer === undefined ? undefined : guardCommandObserver(observer, safely);
      },
    }),
    ...(i.recoveryStarted && {
      recoveryStarted: (recovery) =>
        ender(
          "recovery ended",
          safely("recoveryStarted", () => i.recoveryStarted!(recovery)),
        ),
    }),
    ...(i.passivated && { passivated: (info) => safely("passivated", () => i.passivated!(info)) }),
    ...(i.conflict && { conflict: (info) => safely("conflict", () => i.conflict!(info)) }),
    ...(i.lease && { lease: (event) => safely("lease", () => i.lease!(event)) }),
    ...(i.projectionBatchStarted && {
      projectionBatchStarted: (batch) =>
        ender(
          "projection batch ended",
          safely("projectionBatchStarted", () => i.projectionBatchStarted!(batch)),
        ),
    }),
  };
  GUARDED.add(guarded);
  return guarded;
}

function guardCommandObserver(
  observer: CommandObserver,
  safely: <T>(hook: string, run: () => T) => T | undefined,
): CommandObserver {
  const timed = safely("command observer timed", () => observer.timed);
  return {
    get headers() {
      return safely("command observer headers", () => observer.headers);
    },
    ...(timed === undefined ? {} : { timed }),
    // Present only when the observer follows persists: the runtime reads no clock for one that does not.
    ...(safely("command observer persisted", () => observer.persisted) && {
      persisted: (batch) => safely("command persisted", () => observer.persisted!(batch)),
    }),
    ended: (end) => safely("command ended", () => observer.ended(end)),
  };
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
