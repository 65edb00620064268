import { EntityRegistry, InvalidArgumentError, silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore, uniqueTypeName } from "@eventsourced/core/testing";
import { OpenTelemetryInstrumentation, SpanName, traceHeaders } from "@eventsourced/opentelemetry";
import { atLeastOnce, Projection } from "@eventsourced/projections";
import { InMemoryProjectionStore } from "@eventsourced/projections/testing";
import { context, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import {
  type AccountCmd,
  accountEntity,
  collect,
  type Moved,
  movedBinarizer,
  waitUntil,
} from "./support/account.js";
import { type OtelHarness, otelHarness } from "./support/otel.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function setup(options: Parameters<typeof otelHarness>[0] = {}) {
  const otel = otelHarness(options);
  const evtLog = new InMemoryEvtLog();
  const type = uniqueTypeName("acct");
  const registry = new EntityRegistry(accountEntity(type), {
    evtLog,
    logger: silentLogger,
    instrumentation: otel.instrumentation,
  });
  otel.instrumentation.observeRegistry(registry);
  cleanups.push(async () => {
    await registry.close();
    await otel.shutdown();
  });
  return { otel, evtLog, type, registry };
}

function startProjection(otel: OtelHarness, evtLog: InMemoryEvtLog, type: string) {
  const seen: number[] = [];
  const projection = Projection.create<Moved>({
    name: `totals-${type}`,
    evtLog,
    type,
    binarizer: movedBinarizer,
    handler: atLeastOnce({
      store: new InMemoryProjectionStore(),
      handle: (evts) => {
        for (const e of evts) seen.push(e.position);
      },
    }),
    batch: { maxEvents: 100, maxWaitMs: 5 },
    logger: silentLogger,
    statusPollMs: 20,
    instrumentation: otel.instrumentation,
  });
  otel.instrumentation.observeProjection(projection);
  projection.start();
  cleanups.push(() => projection.stop());
  return { projection, seen };
}

describe("command, persist and projection spans", () => {
  it("a command's span is the parent of its persist span, and its traceparent is stored in the event", async () => {
    const { otel, evtLog, type, registry } = setup({ persistSpans: true });
    const result = await registry.send("a-1", { type: "deposit", amount: 5 });
    expect(result.kind).toBe("accepted");
    const [command] = otel.spansNamed(SpanName.command);
    const [persist] = otel.spansNamed(SpanName.persistBatch);
    expect(command!.attributes).toMatchObject({
      "es.entity.type": type,
      "es.command.type": "deposit",
      "es.command.outcome": "accepted",
      "es.seq_no": 1,
      "es.events.count": 1,
    });
    expect(persist!.parentSpanContext?.spanId).toBe(command!.spanContext().spanId);
    expect(persist!.attributes).toMatchObject({ "es.persist.batch.size": 1 });
    const [record] = await collect(evtLog.evtsById(type, "a-1", { from: 1 }));
    const { traceId, spanId } = command!.spanContext();
    expect(record!.metadata?.headers?.traceparent).toBe(`00-${traceId}-${spanId}-01`);
  });

  it("by default the persist is an attribute of the command span, not a span of its own", async () => {
    const { otel, registry } = setup();
    await registry.send("a-1", { type: "deposit", amount: 5 });
    expect(otel.spansNamed(SpanName.persistBatch)).toEqual([]);
    const [command] = otel.spansNamed(SpanName.command);
    expect(command!.attributes["es.persist.duration_ms"]).toBeGreaterThanOrEqual(0);
  });

  it("a projection batch is a consumer span linked to the command span of every event in it", async () => {
    const { otel, evtLog, type, registry } = setup();
    for (let i = 0; i < 6; i++) await registry.send(`a-${i % 3}`, { type: "deposit", amount: i + 1 });
    const { seen } = startProjection(otel, evtLog, type);
    await waitUntil(() => seen.length === 6, "the projection to apply 6 events");
    await waitUntil(() => otel.spansNamed(SpanName.projectionBatch).length > 0, "a batch span");
    const batches = otel.spansNamed(SpanName.projectionBatch);
    const commandSpanIds = new Set(otel.spansNamed(SpanName.command).map((s) => s.spanContext().spanId));
    const linked = batches.flatMap((b) => b.links.map((l) => l.context.spanId));
    expect(new Set(linked)).toEqual(commandSpanIds);
    expect(batches[0]!.kind).toBe(SpanKind.CONSUMER);
    expect(batches[0]!.attributes).toMatchObject({
      "messaging.operation.type": "process",
      "messaging.destination.name": type,
      "messaging.consumer.group.name": `totals-${type}`,
    });
    const total = batches.reduce((n, b) => n + Number(b.attributes["messaging.batch.message_count"]), 0);
    expect(total).toBe(6);
  });

  it("a command sent with the caller's trace headers continues the caller's trace", async () => {
    const { otel, registry } = setup();
    const caller = otel.tracerProvider.getTracer("test").startSpan("http request");
    const headers = context.with(trace.setSpan(context.active(), caller), () => traceHeaders());
    caller.end();
    await registry.send("a-1", { type: "deposit", amount: 1 }, { metadata: { headers } });
    const [command] = otel.spansNamed(SpanName.command);
    expect(command!.spanContext().traceId).toBe(caller.spanContext().traceId);
    expect(command!.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
  });

  it("a command started inside an active span is its child", async () => {
    const { otel, registry } = setup();
    const caller = otel.tracerProvider.getTracer("test").startSpan("job");
    await context.with(trace.setSpan(context.active(), caller), () =>
      registry.send("a-1", { type: "deposit", amount: 1 }),
    );
    caller.end();
    expect(otel.spansNamed(SpanName.command)[0]!.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
  });

  it("a rejected command's span is OK with outcome rejected; a failed one has an error status", async () => {
    const { otel, registry } = setup();
    await registry.send("a-1", { type: "withdraw", amount: 1 });
    await expect(registry.send("a-1", { type: "explode" } as AccountCmd)).rejects.toThrow("exploded");
    const [rejected, failed] = otel.spansNamed(SpanName.command);
    expect(rejected!.attributes["es.command.outcome"]).toBe("rejected");
    expect(rejected!.status.code).toBe(SpanStatusCode.UNSET);
    expect(failed!.attributes["es.command.outcome"]).toBe("failed");
    expect(failed!.status).toMatchObject({ code: SpanStatusCode.ERROR, message: "the handler exploded" });
  });

  it("puts the entity id on spans only when asked, and never on a metric", async () => {
    const { otel, registry } = setup({ histogramSampleEvery: 1 });
    await registry.send("alice@example.com", { type: "deposit", amount: 1 });
    expect(otel.spansNamed(SpanName.command)[0]!.attributes["es.entity.id"]).toBeUndefined();
    const metrics = JSON.stringify(await otel.metrics());
    expect(metrics).not.toContain("alice@example.com");
    expect(metrics).not.toContain("es.entity.id");

    const opted = setup({ entityIdOnSpans: true, histogramSampleEvery: 1 });
    await opted.registry.send("alice@example.com", { type: "deposit", amount: 1 });
    expect(opted.otel.spansNamed(SpanName.command)[0]!.attributes["es.entity.id"]).toBe("alice@example.com");
    expect(JSON.stringify(await opted.otel.metrics())).not.toContain("alice@example.com");
  });

  it("a recovery span says how many events were folded and whether a snapshot was used", async () => {
    const otel = otelHarness();
    const evtLog = new InMemoryEvtLog();
    const snapshotStore = new InMemorySnapshotStore();
    const type = uniqueTypeName("acct");
    const options = { evtLog, snapshotStore, snapshotAfter: 3, logger: silentLogger };
    const writer = new EntityRegistry(accountEntity(type), options);
    for (let i = 0; i < 5; i++) await writer.send("a-1", { type: "deposit", amount: 1 });
    await writer.close();
    const reader = new EntityRegistry(accountEntity(type), {
      ...options,
      instrumentation: otel.instrumentation,
    });
    cleanups.push(async () => {
      await reader.close();
      await otel.shutdown();
    });
    await reader.send("a-1", { type: "balance" });
    const [recover] = otel.spansNamed(SpanName.recover);
    expect(recover!.attributes).toMatchObject({
      "es.recovery.snapshot": true,
      "es.recovery.snapshot_seq_no": 3,
      "es.recovery.events": 2,
      "es.seq_no": 5,
    });
  });
});

describe("metrics", () => {
  it("counts commands by type and outcome exactly, whatever the histogram sampling", async () => {
    const { otel, type, registry } = setup({ histogramSampleEvery: 4 });
    for (let i = 0; i < 10; i++) await registry.send(`a-${i % 2}`, { type: "deposit", amount: 1 });
    for (let i = 0; i < 3; i++) await registry.send("a-9", { type: "withdraw", amount: 1 });
    const points = await otel.points("es.command.count");
    const count = (outcome: string) =>
      points.find(
        (p) => p.attributes["es.entity.type"] === type && p.attributes["es.command.outcome"] === outcome,
      )?.value;
    expect(count("accepted")).toBe(10);
    expect(count("rejected")).toBe(3);
    expect((await otel.points("es.events.persisted"))[0]?.value).toBe(10);
    const sampled = (await otel.points("es.command.duration")) as { value: { count: number } }[];
    expect(sampled.reduce((n, p) => n + p.value.count, 0)).toBe(3);
    expect((await otel.points("es.entity.active"))[0]?.value).toBe(3);
  });

  it("reports projection lag equal to the ground truth of the log", async () => {
    const { otel, evtLog, type, registry } = setup();
    const { projection, seen } = startProjection(otel, evtLog, type);
    for (let i = 0; i < 4; i++) await registry.send("a-1", { type: "deposit", amount: 1 });
    await waitUntil(() => seen.length === 4, "the projection to apply 4 events");
    await projection.pause();
    for (let i = 0; i < 7; i++) await registry.send("a-2", { type: "deposit", amount: 1 });
    const head = (await evtLog.headOfType(type))!;
    const applied = projection.status.position;
    expect(head.position - applied).toBe(7);
    const attrs = (p: { attributes: Record<string, unknown> }) =>
      p.attributes["es.projection.name"] === `totals-${type}`;
    expect((await otel.points("es.projection.lag.events")).find(attrs)?.value).toBe(head.position - applied);
    expect((await otel.points("es.projection.position")).find(attrs)?.value).toBe(applied);
    expect((await otel.points("es.projection.events")).find(attrs)?.value).toBe(4);
    await projection.resume();
    await waitUntil(() => seen.length === 11, "the projection to catch up");
    await waitUntil(async () => (await projection.lag()).events === 0, "lag 0");
    expect((await otel.points("es.projection.lag.events")).find(attrs)?.value).toBe(0);
  });
});

describe("without an SDK and with bad options", () => {
  it("follows no command while no SDK is registered: no span, no traceparent, no observer", async () => {
    const instrumentation = new OpenTelemetryInstrumentation();
    const evtLog = new InMemoryEvtLog();
    const type = uniqueTypeName("acct");
    const registry = new EntityRegistry(accountEntity(type), {
      evtLog,
      logger: silentLogger,
      instrumentation,
    });
    cleanups.push(() => registry.close());
    await registry.send("a-1", { type: "deposit", amount: 1 });
    const [record] = await collect(evtLog.evtsById(type, "a-1", { from: 1 }));
    expect(record!.metadata?.headers?.traceparent).toBeUndefined();
    expect(
      instrumentation.commandStarted({
        typeName: type,
        id: "a-1",
        cmdType: "deposit",
        metadata: undefined,
        seqNo: 1,
      }),
    ).toBeUndefined();
    instrumentation.close();
  });

  it("refuses invalid options with InvalidArgumentError naming the option", () => {
    expect(() => new OpenTelemetryInstrumentation({ histogramSampleEvery: 0 })).toThrow(InvalidArgumentError);
    expect(() => new OpenTelemetryInstrumentation(null as never)).toThrow(InvalidArgumentError);
    expect(() => new OpenTelemetryInstrumentation({ maxLinks: 1.5 })).toThrow(/maxLinks/);
    expect(() => new OpenTelemetryInstrumentation({ entityIdOnSpans: "yes" as unknown as boolean })).toThrow(
      /entityIdOnSpans/,
    );
  });
});
