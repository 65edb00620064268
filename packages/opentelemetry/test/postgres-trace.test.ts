import { createHealthCheck, EntityRegistry, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { SpanName } from "@eventsourced/opentelemetry";
import { Projection } from "@eventsourced/projections";
import { exactlyOnce, PostgresProjectionStore } from "@eventsourced/projections/postgres";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../../evtlog-postgres/test/pg-test-database.js";
import { accountEntity, collect, type Moved, movedBinarizer, waitUntil } from "./support/account.js";
import { otelHarness } from "./support/otel.js";

// The same trace on the real log: the traceparent goes through PostgreSQL's metadata column, the projection
// commits exactly once and links its batch spans to the commands.

describe("traces and health on PostgreSQL", () => {
  const schema = uniqueSchemaName("otel");
  const otel = otelHarness();
  let pool: pg.Pool;
  let log: PostgresEvtLog;
  let store: PostgresProjectionStore;

  beforeAll(async () => {
    pool = await testPool(4);
    log = await PostgresEvtLog.create({ pool, schema, logger: silentLogger, pollIntervalMs: 50 });
    store = await PostgresProjectionStore.create({ pool, schema });
  });
  afterAll(async () => {
    await log?.close();
    await pool?.end();
    await otel.shutdown();
    await dropSchema(schema);
  });

  it("a command -> persist -> projection trace: the batch span links to every command span", async () => {
    const type = "otelAccount";
    const registry = new EntityRegistry(accountEntity(type), {
      evtLog: log,
      logger: silentLogger,
      instrumentation: otel.instrumentation,
    });
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => registry.send(`a-${i % 4}`, { type: "deposit", amount: i })),
    );
    await registry.close();
    const [stored] = await collect(log.evtsById(type, "a-0", { from: 1, to: 1 }));
    expect(stored!.metadata?.headers?.traceparent).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/);

    let applied = 0;
    const projection = Projection.create<Moved>({
      name: `otel-totals-${schema}`.slice(0, 100),
      evtLog: log,
      type,
      binarizer: movedBinarizer,
      handler: exactlyOnce(store, {
        handle: async (evts) => {
          applied += evts.length;
        },
      }),
      logger: silentLogger,
      instrumentation: otel.instrumentation,
    });
    projection.start();
    try {
      await waitUntil(() => applied === 8, "the projection to apply 8 events");
      await waitUntil(
        () => otel.spansNamed(SpanName.projectionBatch).some((s) => s.links.length > 0),
        "a linked batch span",
      );
      const commandSpans = otel.spansNamed(SpanName.command).map((s) => s.spanContext().spanId);
      const linked = otel
        .spansNamed(SpanName.projectionBatch)
        .flatMap((s) => s.links.map((l) => l.context.spanId));
      expect(new Set(linked)).toEqual(new Set(commandSpans));
      expect(commandSpans).toHaveLength(8);
    } finally {
      await projection.stop();
    }
  });

  it("health: the log is up on the real server, and down, naming the reason, once its pool is gone", async () => {
    const url = new URL(DATABASE_URL);
    url.password = "secret";
    const gone = new pg.Pool({ connectionString: url.toString(), max: 1 });
    gone.on("error", () => {});
    const away = await PostgresEvtLog.create({ pool: gone, schema, logger: silentLogger });
    await gone.end();
    const report = await createHealthCheck({
      evtLogs: [
        { name: "postgres", evtLog: log },
        { name: "away", evtLog: away },
      ],
    }).check();
    expect(report.evtLogs.postgres?.status).toBe("up");
    expect(report.evtLogs.away?.status).toBe("down");
    expect(report.evtLogs.away?.error).toBeTruthy();
    expect(report.evtLogs.away?.error).not.toContain("secret");
    expect(report.ready).toBe(false);
    await away.close();
  });
});
