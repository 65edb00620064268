import type { CommandObserver } from "./command-observer.js";
import type { Instrumentation } from "./instrumentation.js";

type Ender<T> = { ended(end: T): void };

function present<T>(items: readonly (T | undefined)[]): T[] {
  return items.filter((item): item is T => item !== undefined);
}

function endAll<T>(observers: readonly (Ender<T> | undefined)[]): Ender<T> | undefined {
  const all = present(observers);
  if (all.length <= 1) return all[0];
  return {
    ended: (end) => {
      for (const o of all) o.ended(end);
    },
  };
}

/**
 * One instrumentation that calls each of `parts` in order (OpenTelemetry and a logger, say). Headers of
 * several command observers are merged, the later winning on a clash. With one part it returns that part.
 */
export function combineInstrumentation(...parts: readonly Instrumentation[]): Instrumentation {
  if (parts.length === 1) return parts[0]!;
  return {
    commandStarted: (cmd) => {
      const observers = present<CommandObserver>(parts.map((p) => p.commandStarted?.(cmd)));
      if (observers.length <= 1) return observers[0];
      const headers: Record<string, string> = {};
      for (const o of observers) Object.assign(headers, o.headers);
      return {
        headers,
        persisted: (batch) => {
          for (const o of observers) o.persisted?.(batch);
        },
        ended: (end) => {
          for (const o of observers) o.ended(end);
        },
      };
    },
    recoveryStarted: (recovery) => endAll(parts.map((p) => p.recoveryStarted?.(recovery))),
    passivated: (passivation) => {
      for (const p of parts) p.passivated?.(passivation);
    },
    conflict: (conflict) => {
      for (const p of parts) p.conflict?.(conflict);
    },
    lease: (event) => {
      for (const p of parts) p.lease?.(event);
    },
    projectionBatchStarted: (batch) => endAll(parts.map((p) => p.projectionBatchStarted?.(batch))),
  };
}
