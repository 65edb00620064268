import { EntityRegistry, silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog, uniqueTypeName } from "@eventsourced/core/testing";
import { injectTraceContext, readTraceHeaders, SpanName } from "@eventsourced/opentelemetry";
import { headers, type NatsConnection } from "@nats-io/transport-node";
import { context, trace } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectTestNats, uniqueName } from "../../evtlog-nats/test/support/nats-test-env.js";
import { type AccountCmd, accountEntity, collect } from "./support/account.js";
import { otelHarness } from "./support/otel.js";

// What the cluster package does for a routed command, on the real NATS server: the sender puts its trace
// context in the request's headers, the owner extracts it and hands the command to its registry.

describe("a command routed over NATS", () => {
  const otel = otelHarness();
  let nc: NatsConnection;
  beforeAll(async () => {
    nc = await connectTestNats();
  });
  afterAll(async () => {
    await nc?.close();
    await otel.shutdown();
  });

  it("continues the sender's trace in the owning process, and its event carries the command span", async () => {
    const type = uniqueTypeName("acct");
    const evtLog = new InMemoryEvtLog();
    const registry = new EntityRegistry(accountEntity(type), {
      evtLog,
      logger: silentLogger,
      instrumentation: otel.instrumentation,
    });
    const subject = uniqueName("otel.route");
    const sub = nc.subscribe(subject, {
      callback: (_err, msg) => {
        // The command's span takes the sender's span as its parent from its metadata.
        const metadata = { headers: readTraceHeaders(msg.headers) };
        void registry
          .send("a-1", msg.json<AccountCmd>(), { metadata })
          .then((result) => msg.respond(JSON.stringify(result.kind)));
      },
    });
    const sender = otel.tracerProvider.getTracer("test").startSpan("route deposit");
    const hdrs = headers();
    for (const [name, value] of Object.entries(
      injectTraceContext({}, trace.setSpan(context.active(), sender)),
    )) {
      hdrs.set(name, value);
    }
    const reply = await nc.request(subject, JSON.stringify({ type: "deposit", amount: 3 }), {
      headers: hdrs,
      timeout: 10_000,
    });
    sender.end();
    expect(reply.json()).toBe("accepted");
    const [command] = otel.spansNamed(SpanName.command);
    expect(command!.spanContext().traceId).toBe(sender.spanContext().traceId);
    expect(command!.parentSpanContext?.spanId).toBe(sender.spanContext().spanId);
    const [record] = await collect(evtLog.evtsById(type, "a-1", { from: 1 }));
    expect(record!.metadata?.headers?.traceparent).toContain(command!.spanContext().spanId);
    sub.unsubscribe();
    await registry.close();
  });
});
