import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineEntity, Entity, emit, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../packages/evtlog-postgres/test/pg-test-database.js";
import { expectLogMatchesAcks, startWriter } from "./support/writer-process.js";

// Two separate Node processes drive the same entity from its very first event, each through its own
// PostgresEvtLog (own committer, own connections) on one table. Optimistic concurrency in the log plus the
// entity's re-run on conflict must leave every acknowledged command in the log exactly once, atomically,
// with contiguous seqNos; an entity recovered from the log must equal the fold of the log.

const WRITER = fileURLToPath(new URL("./fixtures/postgres-writer.mjs", import.meta.url));
const BUILT = [
  fileURLToPath(new URL("../packages/evtlog-postgres/dist/index.js", import.meta.url)),
  fileURLToPath(new URL("../packages/core/dist/index.js", import.meta.url)),
];
const COMMANDS_PER_WRITER = 150;

describe("two writer processes on one PostgreSQL entity", () => {
  const schema = uniqueSchemaName("two_writers");
  const type = "shared";
  let log: PostgresEvtLog | undefined;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    for (const file of BUILT) {
      if (!existsSync(file)) {
        throw new Error(
          "this test runs the built packages: run `npm run build` (or `npx tsc -b packages/evtlog-postgres`)",
        );
      }
    }
    await (await testPool(1)).end();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await log?.close();
    await dropSchema(schema);
  });

  it("loses and duplicates nothing, keeps seqNos contiguous and commands atomic, from the first event on", async () => {
    const writers = ["A", "B"].map((writer) =>
      startWriter(
        WRITER,
        [DATABASE_URL, schema, type, "the-one", writer, String(COMMANDS_PER_WRITER)],
        writer,
      ),
    );
    children.push(...writers.map((w) => w.child));
    await Promise.all(writers.map((w) => w.ready));
    for (const w of writers) w.child.stdin?.end("go\n");
    const reports = await Promise.all(writers.map((w) => w.report));

    log = await PostgresEvtLog.create({ connectionString: DATABASE_URL, schema, maxConnections: 2 });
    const records = [];
    for await (const record of log.evtsById(type, "the-one", { from: 1 })) records.push(record);
    expect(reports.flatMap((r) => r.failed)).toEqual([]);
    expectLogMatchesAcks(records, reports, 2 * COMMANDS_PER_WRITER);
    expect(await log.lastSeqNo(type, "the-one")).toBe(records.length);
    // Both writers started at expected seqNo 0, so they did contend.
    expect(reports.reduce((n, r) => n + r.conflictRetries, 0)).toBeGreaterThan(0);

    // Recovered state equals the fold of the log.
    const counter = defineEntity<number, never, { tag: string; part: number }>({
      typeName: type,
      initialState: () => 0,
      handleCmd: () => emit({ tag: "unused", part: 0 }),
      handleEvt: (state) => state + 1,
    });
    const recovered = await Entity.spawn("the-one", counter, { evtLog: log, logger: silentLogger });
    expect(recovered.seqNo).toBe(records.length);
    await recovered.stop();
  }, 120_000);
});
