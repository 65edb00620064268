import type {
  CommandObserver,
  CommandStart,
  ConflictInfo,
  Instrumentation,
  LeaseEvent,
  LeaseEventKind,
  PassivationInfo,
  ProjectionBatchObserver,
  ProjectionBatchStart,
  RecoveryObserver,
  RecoveryStart,
} from "@eventsourced/core";
import {
  type Attributes,
  context,
  createNoopMeter,
  metrics,
  ProxyTracerProvider,
  SpanKind,
  type Tracer,
  type TracerProvider,
  trace,
} from "@opentelemetry/api";
import { Attr, SpanName } from "./attributes.js";
import { CommandSpan, type CommandSpanHost, failSpan } from "./command-span.js";
import type { ObservedProjection, ObservedRegistry } from "./observed-sources.js";
import {
  type OpenTelemetryOptions,
  type ResolvedOpenTelemetryOptions,
  resolveOpenTelemetryOptions,
} from "./open-telemetry-options.js";
import { startProjectionBatch } from "./projection-batch-span.js";
import { createRuntimeInstruments, type RuntimeInstruments } from "./runtime-instruments.js";
import { extractTraceContext, TRACEPARENT_HEADER } from "./trace-context.js";
import { CountersByType } from "./type-counters.js";

const SCOPE = "@eventsourced/opentelemetry";
// What the global proxy delegates to while no SDK is registered.
const NO_SDK = new ProxyTracerProvider().getDelegate();
// What a meter of the API's no-op provider returns for every histogram.
const NO_METRICS = createNoopMeter().createHistogram("es.probe");

/**
 * The runtime's `Instrumentation` mapped to OpenTelemetry: spans `es.command` (with a child
 * `es.persist.batch` per persist), `es.recover` and `es.projection.batch` (a consumer span linked to the
 * commands that produced its events), the command span's W3C `traceparent` in its events' metadata, and
 * metrics from observable instruments fed by plain counters plus histograms per batch or sampled per
 * command. Give it as the `instrumentation` option of registries, entities, projections and lease keepers;
 * call {@link OpenTelemetryInstrumentation.observeRegistry} and
 * {@link OpenTelemetryInstrumentation.observeProjection} for their gauges and lag.
 *
 * While no SDK is registered (the global tracer provider is the API's no-op), no span is started; when the
 * meter is a no-op too, no command is followed at all.
 */
export class OpenTelemetryInstrumentation implements Instrumentation {
  readonly #host: CommandSpanHost;
  readonly #tracer: Tracer;
  readonly #instruments: RuntimeInstruments;
  readonly #options: ResolvedOpenTelemetryOptions;
  // The global proxy while no provider was given (its delegate says whether an SDK is registered).
  readonly #proxy: ProxyTracerProvider | undefined;
  readonly #counters = new CountersByType();
  readonly #leaseEvents: Record<LeaseEventKind, number> = { acquired: 0, released: 0, lost: 0, fenced: 0 };
  readonly #held = new Set<string>();
  readonly #registries = new Set<ObservedRegistry>();
  readonly #projections = new Set<ObservedProjection>();
  readonly #metricsOff: boolean;
  #commands = 0;

  /** @throws InvalidArgumentError for an invalid option (the message names it). */
  constructor(options: OpenTelemetryOptions = {}) {
    this.#options = resolveOpenTelemetryOptions(options);
    const provider: TracerProvider = options.tracerProvider ?? trace.getTracerProvider();
    this.#proxy =
      options.tracerProvider === undefined && provider instanceof ProxyTracerProvider ? provider : undefined;
    this.#tracer = provider.getTracer(SCOPE);
    const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE);
    // The API's no-op meter hands out one shared instrument: then nothing could read our counters.
    this.#metricsOff = meter.createHistogram("es.probe") === NO_METRICS;
    this.#instruments = createRuntimeInstruments(meter, {
      counters: this.#counters,
      leaseEvents: this.#leaseEvents,
      leasesHeld: () => this.#held.size,
      registries: this.#registries,
      projections: this.#projections,
    });
    this.#host = {
      tracer: this.#tracer,
      instruments: this.#instruments,
      persistSpans: this.#options.persistSpans,
      traceContextInEvents: this.#options.traceContextInEvents,
    };
  }

  /** Reports a registry's gauges (`es.entity.active`, `es.entity.recovering`); returns the undo. */
  observeRegistry(registry: ObservedRegistry): () => void {
    this.#registries.add(registry);
    return () => this.#registries.delete(registry);
  }

  /**
   * Reports a projection's position, lag (`es.projection.lag.events`, `es.projection.lag.duration`: one
   * head lookup per collection), events and dead letters; returns the undo.
   */
  observeProjection(projection: ObservedProjection): () => void {
    this.#projections.add(projection);
    return () => this.#projections.delete(projection);
  }

  /** Stops the observable instruments' callbacks. */
  close(): void {
    this.#instruments.close();
    this.#registries.clear();
    this.#projections.clear();
  }

  commandStarted(cmd: CommandStart): CommandObserver | undefined {
    const tracing = this.#tracing();
    // No SDK at all: nothing to trace, and no meter to read the counts.
    if (!tracing && this.#metricsOff) return undefined;
    const counters = this.#counters.of(cmd.typeName);
    const sampled = ++this.#commands % this.#options.histogramSampleEvery === 0;
    if (!tracing)
      return sampled
        ? new CommandSpan(this.#host, counters, undefined, context.active(), true)
        : counters.counting;
    const headers = cmd.metadata?.headers;
    const parent =
      headers?.[TRACEPARENT_HEADER] === undefined ? context.active() : extractTraceContext(headers);
    const attributes: Attributes = { [Attr.entityType]: cmd.typeName };
    if (cmd.cmdType !== undefined) attributes[Attr.commandType] = cmd.cmdType;
    if (this.#options.entityIdOnSpans) attributes[Attr.entityId] = cmd.id;
    const span = this.#tracer.startSpan(SpanName.command, { kind: SpanKind.INTERNAL, attributes }, parent);
    if (!span.isRecording()) {
      span.end();
      return sampled ? new CommandSpan(this.#host, counters, undefined, parent, true) : counters.counting;
    }
    return new CommandSpan(this.#host, counters, span, parent, sampled);
  }

  recoveryStarted(recovery: RecoveryStart): RecoveryObserver | undefined {
    const counters = this.#counters.of(recovery.typeName);
    const attributes: Attributes = { [Attr.entityType]: recovery.typeName };
    if (this.#options.entityIdOnSpans) attributes[Attr.entityId] = recovery.id;
    const span = this.#tracing()
      ? this.#tracer.startSpan(SpanName.recover, { kind: SpanKind.INTERNAL, attributes })
      : undefined;
    return {
      ended: (end) => {
        counters.recoveries++;
        if (!end.ok) counters.recoveryFailures++;
        const snapshot = end.snapshotSeqNo !== undefined;
        const metricAttributes = { [Attr.entityType]: recovery.typeName, [Attr.recoverySnapshot]: snapshot };
        this.#instruments.recoveryDuration.record(end.durationMs / 1_000, metricAttributes);
        if (end.ok) this.#instruments.recoveryEvents.record(end.events, metricAttributes);
        if (span === undefined) return;
        span.setAttribute(Attr.recoveryEvents, end.events);
        span.setAttribute(Attr.recoverySnapshot, snapshot);
        if (snapshot) span.setAttribute(Attr.recoverySnapshotSeqNo, end.snapshotSeqNo);
        span.setAttribute(Attr.seqNo, end.seqNo);
        if (!end.ok) failSpan(span, end.error);
        span.end();
      },
    };
  }

  passivated(passivation: PassivationInfo): void {
    this.#counters.of(passivation.typeName).passivations[passivation.reason]++;
  }

  conflict(conflict: ConflictInfo): void {
    this.#counters.of(conflict.typeName).conflicts++;
  }

  lease(event: LeaseEvent): void {
    this.#leaseEvents[event.event]++;
    if (event.event === "acquired") this.#held.add(event.key);
    else if (event.event !== "fenced") this.#held.delete(event.key);
  }

  projectionBatchStarted(batch: ProjectionBatchStart): ProjectionBatchObserver | undefined {
    return startProjectionBatch(
      this.#tracing() ? this.#tracer : undefined,
      this.#instruments,
      batch,
      this.#options.maxLinks,
    );
  }

  /** False while the global tracer provider is the API's no-op (no SDK registered): nothing to start. */
  #tracing(): boolean {
    return this.#proxy === undefined || this.#proxy.getDelegate() !== NO_SDK;
  }
}
