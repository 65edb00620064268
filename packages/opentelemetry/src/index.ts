// OpenTelemetry for @eventsourced/core (`@opentelemetry/api` >= 1.3 < 2 as a peer).

// Attribute and span names
export { Attr, SpanName } from "./attributes.js";
// The instrumentation
export type { ObservedProjection, ObservedRegistry } from "./observed-sources.js";
export { OpenTelemetryInstrumentation } from "./open-telemetry-instrumentation.js";
export type { OpenTelemetryOptions } from "./open-telemetry-options.js";
// W3C trace context in event metadata and message headers (routed commands)
export {
  extractTraceContext,
  formatTraceparent,
  type HeaderCarrier,
  type HeaderGetter,
  injectTraceContext,
  parseTraceparent,
  readTraceHeaders,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
  traceHeaders,
} from "./trace-context.js";
