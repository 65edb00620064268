import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  uniqueSchemaName,
} from "../../../packages/evtlog-postgres/test/pg-test-database.js";
import { assertBuilt, deleteCounterStream, type ExampleRun, runExample } from "./example-process.js";

// Two counter runs started together on one store would change each other's counters, and neither could
// check its own (before the run lease, the second failed: its projection was fenced, or its check saw the
// other's changes). Runs on one PostgreSQL schema or NATS stream take turns: both verify.

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const schema = uniqueSchemaName("counter_turns");
const stream = `COUNTER_TURNS_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
const workload = {
  APP__COUNTER__ENTITY_COUNT: "5",
  APP__COUNTER__EVT_COUNT: "400",
  APP__OUTPUT__PROGRESS: "off",
};

beforeAll(() => {
  assertBuilt();
});

afterAll(async () => {
  await dropSchema(schema);
  await deleteCounterStream(NATS_URL, stream);
});

function expectBothVerified(runs: ExampleRun[]): void {
  for (const run of runs) {
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("verified: all 5 recovered values equal the expected values");
  }
  // The one that came second said why it waited.
  expect(
    runs.filter((run) => run.stdout.includes("waiting: another counter run holds this store")),
  ).toHaveLength(1);
}

describe("two counter runs started together on one store", { timeout: 120_000 }, () => {
  it("on PostgreSQL take turns, and both verify", async () => {
    const env = {
      ...workload,
      APP__EVT_LOG__KIND: "postgres",
      APP__EVT_LOG__POSTGRES__URL: DATABASE_URL,
      APP__EVT_LOG__POSTGRES__SCHEMA: schema,
    };
    expectBothVerified(await Promise.all([runExample({ env }), runExample({ env })]));
  });

  it("on NATS take turns, and both verify", async () => {
    const env = {
      ...workload,
      APP__EVT_LOG__KIND: "nats",
      APP__EVT_LOG__NATS__URL: NATS_URL,
      APP__EVT_LOG__NATS__STREAM: stream,
    };
    expectBothVerified(await Promise.all([runExample({ env }), runExample({ env })]));
  });
});
