/**
 * `npm run bench:opentelemetry [-- --quick]`: what `@eventsourced/opentelemetry` adds per command, on the
 * in-memory log (so that no database is measured), against the bare runtime in the same run.
 *
 * Systems, interleaved round by round: `bare` (no instrumentation: the baseline), `no SDK` (the
 * instrumentation installed while no OpenTelemetry SDK is registered: the global API is a no-op) and `SDK
 * 100 %` (an SDK tracer provider sampling every command, spans batched to an exporter that drops them, a
 * meter provider with a reader; histograms sampled 1 in 16 by default). Targets: `no SDK` within 2 % of
 * bare, `SDK 100 %` at most 6 µs added per command.
 */
import {
  type Decision,
  defineEntity,
  Entity,
  type EntityRef,
  emitAndReply,
  type Instrumentation,
  type ProtocolOf,
  reject,
  silentLogger,
} from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { OpenTelemetryInstrumentation } from "@eventsourced/opentelemetry";
import { context } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { MeterProvider, MetricReader } from "@opentelemetry/sdk-metrics";
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { closedLoop, type Measured } from "./closed-loop.js";
import { comparisonRow, quick, rotateRounds } from "./measure.js";
import { machineFacts, type ResultRow, writeResults } from "./results.js";

type Cmd = { readonly type: "inc"; readonly inc: number };
type Evt = { readonly by: number };

const counter = defineEntity<number, Cmd, Evt, number, "overflow">({
  typeName: "benchOtelCounter",
  initialState: () => 0,
  handleCmd: (state, cmd): Decision<number, Evt, number, "overflow"> =>
    state + cmd.inc > Number.MAX_SAFE_INTEGER
      ? reject("overflow")
      : emitAndReply<number, Evt, number>([{ by: cmd.inc }], (s) => s),
  handleEvt: (state, evt) => state + evt.by,
});

const ROUNDS = quick ? 3 : 9;
const WINDOW_MS = quick ? 250 : 1_000;
const CMD: Cmd = { type: "inc", inc: 1 };
const SERIES = "eventsourced-opentelemetry";

/** Drops every span: the cost measured is the SDK's, not an exporter's network. */
const dropping: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
};

/** A reader nobody collects from: instruments record into the SDK's aggregation as in production. */
class IdleReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const tracerProvider = new BasicTracerProvider({
  sampler: new AlwaysOnSampler(),
  spanProcessors: [new BatchSpanProcessor(dropping, { maxQueueSize: 65_536 })],
});
const meterProvider = new MeterProvider({ readers: [new IdleReader()] });

const SYSTEMS: Record<string, () => Instrumentation | undefined> = {
  bare: () => undefined,
  "no SDK": () => new OpenTelemetryInstrumentation(),
  "SDK 100 %": () => new OpenTelemetryInstrumentation({ tracerProvider, meterProvider, persistSpans: false }),
  "SDK 100 %, persist spans": () =>
    new OpenTelemetryInstrumentation({ tracerProvider, meterProvider, persistSpans: true }),
};

async function run(instrumentation: Instrumentation | undefined, entities: number): Promise<Measured> {
  const evtLog = new InMemoryEvtLog();
  const refs: EntityRef<ProtocolOf<typeof counter>>[] = await Promise.all(
    Array.from({ length: entities }, (_, i) =>
      Entity.spawn(`e${i}`, counter, { evtLog, logger: silentLogger, instrumentation }),
    ),
  );
  const measured = await closedLoop({ workers: entities, durationMs: WINDOW_MS, warmupMs: 50 }, async (e) => {
    const result = await refs[e]!.handleCmd(CMD);
    if (result.kind !== "accepted") throw new Error("unexpected rejection");
  });
  await Promise.all(refs.map((ref) => ref.stop()));
  (instrumentation as OpenTelemetryInstrumentation | undefined)?.close();
  return measured;
}

async function main(): Promise<void> {
  console.log(`opentelemetry benchmark (${quick ? "quick" : "full"}): ${ROUNDS} rounds of ${WINDOW_MS} ms`);
  for (const make of Object.values(SYSTEMS)) await run(make(), 10);
  const rows: ResultRow[] = [];
  for (const [scenario, entities] of Object.entries({ "1 entity": 1, "100 entities": 100 })) {
    const runs = Object.fromEntries(
      Object.entries(SYSTEMS).map(([name, make]) => [name, () => run(make(), entities)]),
    );
    const results = await rotateRounds(ROUNDS, runs);
    const bare = results.get("bare")!;
    const micros = (m: Measured) => 1e6 / m.perSecond;
    for (const name of ["no SDK", "SDK 100 %", "SDK 100 %, persist spans"]) {
      const ours = results.get(name)!;
      const fields = (metric: string, unit: string) => ({
        scenario: `${scenario}, ${name}`,
        metric,
        unit,
        series: SERIES,
        entities,
      });
      rows.push(
        comparisonRow(fields("per-command", "µs"), micros, ours, bare),
        comparisonRow(fields("cpu-per-command", "µs"), (m) => m.cpuMicros, ours, bare),
        comparisonRow(
          fields("added", "µs"),
          (added) => added,
          ours.map((m, i) => micros(m) - micros(bare[i]!)),
        ),
        comparisonRow(
          fields("added-cpu", "µs"),
          (added) => added,
          ours.map((m, i) => m.cpuMicros - bare[i]!.cpuMicros),
        ),
        // The best rounds are the least disturbed by other processes on a loaded machine.
        comparisonRow(fields("added-cpu-best", "µs"), (added) => added, [
          Math.min(...ours.map((m) => m.cpuMicros)) - Math.min(...bare.map((m) => m.cpuMicros)),
        ]),
      );
    }
    console.log(`${scenario} done`);
  }
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
  writeResults("opentelemetry", rows, machineFacts());
}

await main();
