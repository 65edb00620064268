import { InvalidArgumentError } from "@eventsourced/core";
import type { MeterProvider, TracerProvider } from "@opentelemetry/api";

/** Options of {@link OpenTelemetryInstrumentation}. */
export interface OpenTelemetryOptions {
  /** Where spans go; default the global one (`trace.setGlobalTracerProvider`, as an SDK registers it). */
  readonly tracerProvider?: TracerProvider | undefined;
  /**
   * Where metrics go; default the global one AT CONSTRUCTION (the metrics API has no proxy: register the
   * SDK's meter provider first, or pass it here).
   */
  readonly meterProvider?: MeterProvider | undefined;
  /** Put `es.entity.id` on spans. Default false: ids are often personal data. Never on metrics. */
  readonly entityIdOnSpans?: boolean | undefined;
  /**
   * A child span `es.persist.batch` per persist of a command's events. Default false: a second span per
   * command about doubles the tracing cost (about 2.5-4 µs more per command in memory, see the bench); without
   * it the command span carries `es.persist.duration_ms` (and its events' count, `es.events.count`).
   */
  readonly persistSpans?: boolean | undefined;
  /**
   * Record the per-command histograms (`es.command.duration`, `es.persist.duration`,
   * `es.persist.batch.size`) for one command in this many, so that no attributed metric is recorded per
   * command on the hot path (counts come from the observable counters, which are exact). Default 16; 1
   * records every command.
   */
  readonly histogramSampleEvery?: number | undefined;
  /** Store the command span's `traceparent` in the metadata headers of its events. Default true. */
  readonly traceContextInEvents?: boolean | undefined;
  /** At most this many links on a projection batch span (one per distinct producing command). Default 128. */
  readonly maxLinks?: number | undefined;
}

/** The options with their defaults applied. */
export interface ResolvedOpenTelemetryOptions {
  readonly entityIdOnSpans: boolean;
  readonly persistSpans: boolean;
  readonly histogramSampleEvery: number;
  readonly traceContextInEvents: boolean;
  readonly maxLinks: number;
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError(`${name} must be an integer >= 1, got ${String(value)}`);
  }
  return value;
}

function flag(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean")
    throw new InvalidArgumentError(`${name} must be a boolean, got ${String(value)}`);
  return value;
}

/** Validates the options; throws `InvalidArgumentError` naming the option. */
export function resolveOpenTelemetryOptions(options: OpenTelemetryOptions): ResolvedOpenTelemetryOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(
      `OpenTelemetryInstrumentation options must be an object, got ${String(options)}`,
    );
  }
  return {
    entityIdOnSpans: flag("entityIdOnSpans", options.entityIdOnSpans, false),
    persistSpans: flag("persistSpans", options.persistSpans, false),
    histogramSampleEvery: positiveInteger("histogramSampleEvery", options.histogramSampleEvery, 16),
    traceContextInEvents: flag("traceContextInEvents", options.traceContextInEvents, true),
    maxLinks: positiveInteger("maxLinks", options.maxLinks, 128),
  };
}
