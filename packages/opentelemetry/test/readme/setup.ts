// "Setup" in packages/opentelemetry/README.md, verbatim between the region markers; ../readme.test.ts runs it.
// #region setup
import { EntityRegistry, type EvtLog, type EvtOf, jsonBinarizer } from "@eventsourced/core";
import { OpenTelemetryInstrumentation } from "@eventsourced/opentelemetry";
import { atLeastOnce, Projection } from "@eventsourced/projections";
import { InMemoryProjectionStore } from "@eventsourced/projections/testing";
import type { MeterProvider, TracerProvider } from "@opentelemetry/api";
import { account } from "./account.js"; // the entity of the repository README's quickstart

type AccountEvt = EvtOf<typeof account>;

export function instrumented(evtLog: EvtLog, tracerProvider: TracerProvider, meterProvider: MeterProvider) {
  // One instrumentation per process. Without the two providers it uses the global ones (register the
  // SDK's meter provider before this line: the metrics API has no proxy).
  const otel = new OpenTelemetryInstrumentation({ tracerProvider, meterProvider });
  const accounts = new EntityRegistry(account, { evtLog, instrumentation: otel });
  otel.observeRegistry(accounts); // es.entity.active, es.entity.recovering
  const totals = Projection.create<AccountEvt>({
    name: "account-totals",
    evtLog,
    type: account.typeName,
    binarizer: jsonBinarizer<AccountEvt, unknown>(), // the entity's binarizer
    handler: atLeastOnce({ store: new InMemoryProjectionStore(), handle: () => {} }),
    instrumentation: otel, // es.projection.batch spans, linked to the commands of their events
  });
  otel.observeProjection(totals); // es.projection.lag.events, es.projection.lag.duration
  totals.start();
  return { otel, accounts, totals };
}
// #endregion setup
