import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  uniqueSchemaName,
} from "../../../packages/evtlog-postgres/test/pg-test-database.js";
import { netChangeOf } from "../src/workload.js";
import {
  assertBuilt,
  deleteCounterStream,
  type ExampleRun,
  lineStartingWith,
  runExample,
} from "./example-process.js";

// A run frozen (SIGSTOP) past its lease's TTL loses the lease, and the next run on the store takes it. When
// the first resumes, its writes are fenced by its lease tenure: the commands it still had queued are refused
// (OWNERSHIP_LOST), not acknowledged, and change nothing, so the second run's counters are its own. Before the
// fence, the resumed run's queued persists conflicted with the second run's events, re-read them and
// committed on top of them, and its verification then claimed that the second run's values were wrong.

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const ENTITY_COUNT = 50;
// A's commands per counter (it is frozen a tenth of the way), and B's.
const EVT_COUNT = { a: 1_000, b: 200 };
const schema = uniqueSchemaName("counter_fenced");
const stream = `COUNTER_FENCED_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
const tmp = mkdtempSync(join(tmpdir(), "counter-fenced-"));
const workload = {
  APP__COUNTER__ENTITY_COUNT: String(ENTITY_COUNT),
  // Snapshots are written by the run's counters too (unfenced): often, so that the resumed run has some due.
  APP__COUNTER__SNAPSHOT_AFTER: "100",
  // Redrawn every 100 ms on stderr: the test acts on how far a run got.
  APP__OUTPUT__PROGRESS: "bar",
};

beforeAll(() => {
  assertBuilt();
});

afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await dropSchema(schema);
  await deleteCounterStream(NATS_URL, stream);
});

/** Commands a run has acknowledged so far, from its progress bar (0 before the write phase). */
function progressOf(stderr: string): number {
  const all = [...stderr.matchAll(/(\d+)\/\d+ commands/g)];
  return all.length === 0 ? 0 : Number(all[all.length - 1]![1]);
}

interface Summary {
  readonly commands: number;
  readonly rejected: number;
  readonly startTotal: string;
}

const summaryOf = (file: string): Summary => JSON.parse(readFileSync(file, "utf8")) as Summary;

/** The sum of the counters' values and the number of their events, as a run that sends nothing finds them. */
async function storeContents(env: Record<string, string>): Promise<{ total: bigint; evts: number }> {
  const check = await runExample({
    env: {
      ...env,
      APP__COUNTER__EVT_COUNT: "0",
      APP__COUNTER__SNAPSHOT_AFTER: "0",
      APP__OUTPUT__PROGRESS: "off",
    },
  });
  expect(check.code, check.stderr).toBe(0);
  const total = /their values sum to (\d+)/.exec(lineStartingWith(check.stdout, "start: recovered"))?.[1];
  // Without snapshots, the check's recovery replays every event of the counters.
  const evts = /([\d,]+) events replayed/.exec(lineStartingWith(check.stdout, "recovery:"))?.[1];
  return { total: BigInt(total ?? "-1"), evts: Number((evts ?? "-1").replaceAll(",", "")) };
}

/**
 * Run A is frozen mid-run, run B starts on the same store (it waits until A's lease expired), and A is
 * resumed while B writes. Returns both runs and their summaries.
 */
async function frozenRunAndNext(env: Record<string, string>) {
  const files = {
    a: join(tmp, `${env.APP__EVT_LOG__KIND}-a.json`),
    b: join(tmp, `${env.APP__EVT_LOG__KIND}-b.json`),
  };
  let a: { kill(signal: NodeJS.Signals): boolean } | undefined;
  let aStderr = "";
  let frozen!: () => void;
  const aFrozen = new Promise<void>((resolve) => {
    frozen = resolve;
  });
  const runA = runExample({
    env: { ...env, APP__COUNTER__EVT_COUNT: String(EVT_COUNT.a), APP__OUTPUT__SUMMARY_FILE: files.a },
    timeoutMs: 120_000,
    onStderr: (text, child) => {
      aStderr += text;
      // A tenth of the way: its counters are all recovered and each has commands in flight.
      if (a === undefined && progressOf(aStderr) >= (ENTITY_COUNT * EVT_COUNT.a) / 10) {
        a = child;
        child.kill("SIGSTOP");
        frozen();
      }
    },
  });
  await aFrozen;
  let bStderr = "";
  let resumed = false;
  const resumeA = () => {
    if (!resumed) a?.kill("SIGCONT");
    resumed = true;
  };
  const runB = runExample({
    env: {
      ...env,
      APP__COUNTER__EVT_COUNT: String(EVT_COUNT.b),
      // A few counters at a time: the others sit untouched for a while, where a late write of A's would land
      // without conflicting with B's (and B would then count it as its own).
      APP__COUNTER__MAX_ACTIVE: "10",
      APP__OUTPUT__SUMMARY_FILE: files.b,
    },
    timeoutMs: 120_000,
    onStderr: (text) => {
      bStderr += text;
      // B took the lease (A's expired: A stayed frozen longer than the TTL) and is writing.
      if (progressOf(bStderr) > 0) resumeA();
    },
  });
  let b: ExampleRun;
  try {
    b = await runB;
  } finally {
    resumeA();
  }
  const aRun = await runA;
  return { a: aRun, b, summaryA: summaryOf(files.a), summaryB: summaryOf(files.b) };
}

async function expectFenced(env: Record<string, string>): Promise<void> {
  const { a, b, summaryA, summaryB } = await frozenRunAndNext(env);

  // B took the store once A's lease expired (usually after a "waiting: another counter run holds this store"
  // line; not asserted: on a loaded machine B's start can take longer than the 5 s TTL), then wrote every
  // command and verified its counters and nothing but its own.
  expect(b.code, `${b.stdout}\n${b.stderr}`).toBe(0);
  expect(b.stdout).toContain(`verified: all ${ENTITY_COUNT} recovered values equal the expected values`);
  expect(summaryB.commands).toBe(ENTITY_COUNT * EVT_COUNT.b);
  expect(summaryB.rejected).toBe(0);

  // A wrote nothing after B started: the counters are what B found plus B's changes. Every command that
  // was acknowledged (accepted: one event each) is durable, and nothing else is.
  const contents = await storeContents(env);
  expect(contents.total).toBe(BigInt(summaryB.startTotal) + BigInt(ENTITY_COUNT) * netChangeOf(EVT_COUNT.b));
  expect(contents.evts).toBe(summaryA.commands - summaryA.rejected + (summaryB.commands - summaryB.rejected));

  // A stopped when it found its lease gone, and did not claim that B's values were wrong.
  expect(a.code, `${a.stdout}\n${a.stderr}`).toBe(1);
  expect(a.stderr).toContain("counter: the run's lease on the store was lost");
  expect(a.stdout).toContain("not verified: the run's lease on the store ended");
  expect(a.stdout).not.toContain("NOT verified");
  expect(summaryA.commands).toBeLessThan(ENTITY_COUNT * EVT_COUNT.a);
}

describe("a counter run frozen past its lease's TTL, then resumed while the next run writes", {
  timeout: 240_000,
}, () => {
  it("on PostgreSQL has its late writes refused; the next run verifies", async () => {
    await expectFenced({
      ...workload,
      APP__EVT_LOG__KIND: "postgres",
      APP__EVT_LOG__POSTGRES__URL: DATABASE_URL,
      APP__EVT_LOG__POSTGRES__SCHEMA: schema,
    });
  });

  it("on NATS has its late writes refused; the next run verifies", async () => {
    await expectFenced({
      ...workload,
      APP__EVT_LOG__KIND: "nats",
      APP__EVT_LOG__NATS__URL: NATS_URL,
      APP__EVT_LOG__NATS__STREAM: stream,
    });
  });
});
