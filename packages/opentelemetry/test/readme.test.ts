// Runs the examples of packages/opentelemetry/README.md (their code lives in ./readme/).
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { SpanName } from "@eventsourced/opentelemetry";
import { context, trace } from "@opentelemetry/api";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import { afterEach, describe, expect, it } from "vitest";
import { handleRouted, outgoingHeaders } from "./readme/routed.js";
import { instrumented } from "./readme/setup.js";
import { waitUntil } from "./support/account.js";
import { otelHarness } from "./support/otel.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("the opentelemetry README's examples", () => {
  it("setup: a command's trace reaches the projection batch that applies its event", async () => {
    const otel = otelHarness();
    const meterProvider = new MeterProvider();
    const {
      otel: instrumentation,
      accounts,
      totals,
    } = instrumented(new InMemoryEvtLog(), otel.tracerProvider, meterProvider);
    cleanups.push(async () => {
      await totals.stop();
      await accounts.close();
      instrumentation.close();
      await meterProvider.shutdown();
      await otel.shutdown();
    });
    const done = await accounts.send("a-1", { type: "deposit", amount: 5 });
    await totals.waitFor(done.kind === "accepted" ? done.position! : 0);
    await waitUntil(() => otel.spansNamed(SpanName.projectionBatch).length === 1, "the batch span");
    const [command] = otel.spansNamed(SpanName.command);
    const [batch] = otel.spansNamed(SpanName.projectionBatch);
    expect(batch!.links.map((l) => l.context.spanId)).toEqual([command!.spanContext().spanId]);
  });

  it("routed: the receiving process continues the sender's trace", async () => {
    const otel = otelHarness();
    const {
      otel: instrumentation,
      accounts,
      totals,
    } = instrumented(new InMemoryEvtLog(), otel.tracerProvider, new MeterProvider());
    cleanups.push(async () => {
      await totals.stop();
      await accounts.close();
      instrumentation.close();
      await otel.shutdown();
    });
    const sender = otel.tracerProvider.getTracer("test").startSpan("route");
    const headers = context.with(trace.setSpan(context.active(), sender), () => outgoingHeaders());
    sender.end();
    await handleRouted(accounts, "a-2", { type: "deposit", amount: 1 }, headers);
    const [command] = otel.spansNamed(SpanName.command);
    expect(command!.spanContext().traceId).toBe(sender.spanContext().traceId);
  });
});
