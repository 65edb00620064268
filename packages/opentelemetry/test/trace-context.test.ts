import {
  extractTraceContext,
  formatTraceparent,
  injectTraceContext,
  parseTraceparent,
  readTraceHeaders,
  traceHeaders,
} from "@eventsourced/opentelemetry";
import { context, ROOT_CONTEXT, TraceFlags, trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { otelHarness } from "./support/otel.js";

const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";
const VALID = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe("W3C trace context", () => {
  it("parses a valid traceparent into a remote, sampled span context", () => {
    expect(parseTraceparent(VALID)).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });

  it("refuses malformed values, version ff, all-zero ids and extra fields on version 00", () => {
    for (const bad of [
      undefined,
      "",
      "garbage",
      `ff-${TRACE_ID}-${SPAN_ID}-01`,
      `00-${"0".repeat(32)}-${SPAN_ID}-01`,
      `00-${TRACE_ID}-${"0".repeat(16)}-01`,
      `00-${TRACE_ID}-${SPAN_ID}-01-extra`,
      `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`,
    ]) {
      expect(parseTraceparent(bad), String(bad)).toBeUndefined();
    }
  });

  it("accepts a future version with more fields after the flags", () => {
    expect(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-00-whatever`)?.traceFlags).toBe(TraceFlags.NONE);
  });

  it("round-trips through format, inject and extract, tracestate included", () => {
    const parsed = parseTraceparent(VALID, "vendor=abc")!;
    expect(formatTraceparent(parsed)).toBe(VALID);
    const headers = injectTraceContext({}, trace.setSpanContext(ROOT_CONTEXT, parsed));
    expect(headers).toEqual({ traceparent: VALID, tracestate: "vendor=abc" });
    const extracted = trace.getSpanContext(extractTraceContext(headers, ROOT_CONTEXT));
    expect(extracted?.traceId).toBe(TRACE_ID);
    expect(extracted?.spanId).toBe(SPAN_ID);
    expect(extracted?.traceState?.serialize()).toBe("vendor=abc");
  });

  it("reads headers with a get method (NATS MsgHdrs) as well as plain records", () => {
    const natsLike = { get: (name: string) => (name === "traceparent" ? VALID : "") };
    expect(trace.getSpanContext(extractTraceContext(natsLike, ROOT_CONTEXT))?.spanId).toBe(SPAN_ID);
  });

  it("readTraceHeaders keeps the W3C headers of a carrier and drops a malformed traceparent", () => {
    const natsLike = {
      get: (name: string) => ({ traceparent: VALID, tracestate: "v=1", other: "x" })[name] ?? "",
    };
    expect(readTraceHeaders(natsLike)).toEqual({ traceparent: VALID, tracestate: "v=1" });
    expect(readTraceHeaders({ traceparent: "broken", tracestate: "v=1" })).toEqual({});
    expect(readTraceHeaders(undefined)).toEqual({});
  });

  it("writes nothing without a valid span and extracts nothing from headers without one", () => {
    expect(injectTraceContext({}, ROOT_CONTEXT)).toEqual({});
    expect(extractTraceContext({ traceparent: "nope" }, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
    expect(extractTraceContext(undefined, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
  });

  it("traceHeaders gives the active span's traceparent", async () => {
    const otel = otelHarness();
    const span = otel.tracerProvider.getTracer("test").startSpan("caller");
    const headers = context.with(trace.setSpan(context.active(), span), () => traceHeaders());
    span.end();
    expect(headers.traceparent).toBe(formatTraceparent(span.spanContext()));
    await otel.shutdown();
  });

  it("treats values that are not strings, and carriers that are null, as no trace context", () => {
    for (const value of [5, null, {}, ["x"]]) {
      expect(parseTraceparent(value as never)).toBeUndefined();
      expect(readTraceHeaders({ traceparent: value } as never)).toEqual({});
      expect(extractTraceContext({ traceparent: value } as never, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
    }
    expect(readTraceHeaders(null as never)).toEqual({});
    expect(extractTraceContext(null as never, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
    expect(parseTraceparent(VALID, 5 as never)?.traceState).toBeUndefined();
  });
});
