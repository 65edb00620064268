import {
  type Context,
  context as contextApi,
  createTraceState,
  isSpanContextValid,
  type SpanContext,
  TraceFlags,
  trace,
} from "@opentelemetry/api";

/** The W3C Trace Context header carrying trace id, parent span id and flags. */
export const TRACEPARENT_HEADER = "traceparent";
/** The W3C Trace Context header carrying vendor state; passed through as it is. */
export const TRACESTATE_HEADER = "tracestate";

// version 00: 2 hex, trace id 32 hex, span id 16 hex, flags 2 hex (https://www.w3.org/TR/trace-context/).
const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})(?:-.*)?$/;

/** `traceparent` of a span context (`00-<trace id>-<span id>-<flags>`). */
export function formatTraceparent(spanContext: SpanContext): string {
  const flags = (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? "01" : "00";
  return `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
}

/**
 * The span context a `traceparent` value names, `undefined` when it is missing or malformed (per the W3C
 * rules: version ff and all-zero ids are invalid; a future version may carry more fields after the flags).
 */
export function parseTraceparent(
  traceparent: string | undefined,
  tracestate?: string | undefined,
): SpanContext | undefined {
  // A value from the wire may be anything: only a string can be a traceparent.
  if (typeof traceparent !== "string") return undefined;
  const match = TRACEPARENT.exec(traceparent.trim().toLowerCase());
  if (match === null || match[1] === "ff") return undefined;
  if (match[1] === "00" && traceparent.trim().length !== 55) return undefined;
  const spanContext: SpanContext = {
    traceId: match[2]!,
    spanId: match[3]!,
    traceFlags: Number.parseInt(match[4]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  if (!isSpanContextValid(spanContext)) return undefined;
  return typeof tracestate !== "string"
    ? spanContext
    : { ...spanContext, traceState: createTraceState(tracestate) };
}

/**
 * Writes the trace context of `ctx` (default: the active one) into `headers` as `traceparent` (and
 * `tracestate` when there is one), for a NATS message or an event's metadata. Writes nothing when `ctx`
 * holds no valid span. Returns `headers`.
 * @example
 * // Sending a routed command: the receiving process continues the trace.
 * const headers = natsHeaders();
 * const trace = injectTraceContext({});
 * for (const [k, v] of Object.entries(trace)) headers.set(k, v);
 */
export function injectTraceContext(
  headers: Record<string, string>,
  ctx: Context = contextApi.active(),
): Record<string, string> {
  const spanContext = trace.getSpanContext(ctx);
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return headers;
  headers[TRACEPARENT_HEADER] = formatTraceparent(spanContext);
  const state = spanContext.traceState?.serialize();
  if (state !== undefined && state !== "") headers[TRACESTATE_HEADER] = state;
  return headers;
}

/** Message headers: a plain record, or anything with `get(name)` (NATS `MsgHdrs`, `Headers`). */
export type HeaderCarrier = Readonly<Record<string, string | undefined>> | HeaderGetter;

/** Headers read by name (NATS `MsgHdrs`, the fetch API's `Headers`). */
export interface HeaderGetter {
  /** The header's value; empty, `null` or `undefined` when absent. */
  get(name: string): string | undefined | null;
}

function headerOf(headers: HeaderCarrier, name: string): string | undefined {
  if (typeof headers !== "object" || headers === null) return undefined;
  const value: unknown =
    typeof (headers as { get?: unknown }).get === "function"
      ? (headers as HeaderGetter).get(name)
      : (headers as Readonly<Record<string, string | undefined>>)[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/**
 * The W3C trace headers (`traceparent`, `tracestate`) among `headers`, as a fresh record: what a process
 * receiving a routed command passes as the command's `metadata.headers`, so that its span continues the
 * sender's trace (a malformed `traceparent` is left out).
 * @example
 * await registry.send(id, cmd, { metadata: { headers: readTraceHeaders(msg.headers) } });
 */
export function readTraceHeaders(headers: HeaderCarrier | undefined): Record<string, string> {
  const found: Record<string, string> = {};
  if (headers === undefined || headers === null) return found;
  const traceparent = headerOf(headers, TRACEPARENT_HEADER);
  if (parseTraceparent(traceparent) === undefined) return found;
  found[TRACEPARENT_HEADER] = traceparent!;
  const tracestate = headerOf(headers, TRACESTATE_HEADER);
  if (tracestate !== undefined) found[TRACESTATE_HEADER] = tracestate;
  return found;
}

/**
 * A context whose parent span is the one `headers` name (`traceparent`, `tracestate`), on top of `base`
 * (default: the active context); `base` itself when the headers carry no valid trace context. Accepts a
 * plain record or anything with `get(name)` (NATS `MsgHdrs`).
 * @example
 * // Receiving a routed command: handle it under the sender's trace.
 * const parent = extractTraceContext(msg.headers);
 * await context.with(parent, () => registry.send(id, cmd, { metadata: { headers: traceHeaders(parent) } }));
 */
export function extractTraceContext(
  headers: HeaderCarrier | undefined,
  base: Context = contextApi.active(),
): Context {
  if (headers === undefined || headers === null) return base;
  const spanContext = parseTraceparent(
    headerOf(headers, TRACEPARENT_HEADER),
    headerOf(headers, TRACESTATE_HEADER),
  );
  return spanContext === undefined ? base : trace.setSpanContext(base, spanContext);
}

/**
 * The trace context of `ctx` (default: the active one) as a fresh header record: pass it as a command's
 * `metadata.headers` so that the command's span (and its events) continue this trace even when the
 * command waits in a mailbox.
 */
export function traceHeaders(ctx: Context = contextApi.active()): Record<string, string> {
  return injectTraceContext({}, ctx);
}
