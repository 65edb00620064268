import { OpenTelemetryInstrumentation, type OpenTelemetryOptions } from "@eventsourced/opentelemetry";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  AggregationTemporality,
  type DataPoint,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from "@opentelemetry/sdk-metrics";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";

// Tests give providers explicitly instead of registering them globally, so files cannot leak into each
// other; only the context manager (needed for `context.with`) is global, set once.
let contextManager: AsyncLocalStorageContextManager | undefined;
export function useAsyncContext(): void {
  if (contextManager !== undefined) return;
  contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
}

/** An instrumentation on in-memory span and metric exporters. */
export interface OtelHarness {
  readonly instrumentation: OpenTelemetryInstrumentation;
  readonly tracerProvider: BasicTracerProvider;
  /** Finished spans so far. */
  spans(): ReadableSpan[];
  spansNamed(name: string): ReadableSpan[];
  /** Collects and returns every metric (cumulative). */
  metrics(): Promise<MetricData[]>;
  /** The data points of metric `name` (empty when it has none). */
  points(name: string): Promise<DataPoint<unknown>[]>;
  shutdown(): Promise<void>;
}

export function otelHarness(options: OpenTelemetryOptions = {}): OtelHarness {
  useAsyncContext();
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const instrumentation = new OpenTelemetryInstrumentation({ tracerProvider, meterProvider, ...options });
  const metrics = async (): Promise<MetricData[]> => {
    metricExporter.reset();
    await reader.forceFlush();
    return metricExporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
  };
  return {
    instrumentation,
    tracerProvider,
    spans: () => spanExporter.getFinishedSpans(),
    spansNamed: (name) => spanExporter.getFinishedSpans().filter((s) => s.name === name),
    metrics,
    points: async (name) => (await metrics()).find((m) => m.descriptor.name === name)?.dataPoints ?? [],
    shutdown: async () => {
      instrumentation.close();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}
