import type { CommandEnd, CommandObserver, PersistBatch } from "@eventsourced/core";
import { type Context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import { Attr, SpanName } from "./attributes.js";
import type { RuntimeInstruments } from "./runtime-instruments.js";
import { formatTraceparent, TRACEPARENT_HEADER } from "./trace-context.js";
import type { TypeCounters } from "./type-counters.js";

/** What a command observer needs from the instrumentation. */
export interface CommandSpanHost {
  readonly tracer: Tracer;
  readonly instruments: RuntimeInstruments;
  readonly persistSpans: boolean;
  readonly traceContextInEvents: boolean;
}

/** Ends a span with an error status (the exception recorded when it is an `Error`). */
export function failSpan(span: Span, error: unknown): void {
  if (error instanceof Error) span.recordException(error);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * Follows a command that is traced (`span`) or whose histograms are sampled (`sampled`), or both. Counting
 * is done by its type's counters either way.
 */
export class CommandSpan implements CommandObserver {
  readonly #host: CommandSpanHost;
  readonly #counters: TypeCounters;
  readonly #span: Span | undefined;
  readonly #context: Context | undefined;
  readonly #sampled: boolean;
  #headers: Record<string, string> | undefined;

  constructor(
    host: CommandSpanHost,
    counters: TypeCounters,
    span: Span | undefined,
    parent: Context,
    sampled: boolean,
  ) {
    this.#host = host;
    this.#counters = counters;
    this.#span = span;
    this.#context = span === undefined ? undefined : trace.setSpan(parent, span);
    this.#sampled = sampled;
  }

  /** The span's `traceparent`, for the events' metadata (computed once, when the command emits). */
  get headers(): Readonly<Record<string, string>> | undefined {
    if (this.#span === undefined || !this.#host.traceContextInEvents) return undefined;
    this.#headers ??= { [TRACEPARENT_HEADER]: formatTraceparent(this.#span.spanContext()) };
    return this.#headers;
  }

  persisted(batch: PersistBatch): void {
    if (this.#sampled) {
      const attributes = { [Attr.entityType]: this.#counters.typeName };
      this.#host.instruments.persistDuration.record(batch.durationMs / 1_000, attributes);
      this.#host.instruments.persistBatchSize.record(batch.size, attributes);
    }
    if (this.#span === undefined) return;
    if (!this.#host.persistSpans) {
      this.#span.setAttribute(Attr.persistDurationMs, batch.durationMs);
      return;
    }
    const span = this.#host.tracer.startSpan(
      SpanName.persistBatch,
      {
        kind: SpanKind.CLIENT,
        startTime: batch.startedAt,
        attributes: { [Attr.entityType]: this.#counters.typeName, [Attr.batchSize]: batch.size },
      },
      this.#context,
    );
    if (batch.position !== undefined) span.setAttribute(Attr.logPosition, batch.position);
    if (batch.error !== undefined) failSpan(span, batch.error);
    span.end(batch.startedAt + batch.durationMs);
  }

  ended(end: CommandEnd): void {
    this.#counters.count(end);
    if (this.#sampled) {
      this.#host.instruments.commandDuration.record(end.durationMs / 1_000, {
        [Attr.entityType]: this.#counters.typeName,
        [Attr.commandOutcome]: end.outcome,
      });
    }
    const span = this.#span;
    if (span === undefined) return;
    span.setAttribute(Attr.commandOutcome, end.outcome);
    span.setAttribute(Attr.seqNo, end.seqNo);
    span.setAttribute(Attr.eventCount, end.events);
    if (end.outcome === "failed") failSpan(span, end.error);
    span.end();
  }
}
