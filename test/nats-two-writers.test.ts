import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTestNats,
  deleteStream,
  NATS_URL,
  uniqueName,
} from "../packages/evtlog-nats/test/support/nats-test-env.js";
import { expectLogMatchesAcks, startWriter } from "./support/writer-process.js";

// Two separate Node processes drive the same entity from its very first event (both start at expected
// seqNo 0). The log's optimistic concurrency plus the entity's re-run on conflict must leave every
// acknowledged command in the log exactly once, atomically, with contiguous seqNos.

const WRITER = fileURLToPath(new URL("./fixtures/nats-writer.mjs", import.meta.url));
const BUILT = fileURLToPath(new URL("../packages/evtlog-nats/dist/index.js", import.meta.url));
const COMMANDS_PER_WRITER = 150;

describe("two writer processes on one NATS entity", () => {
  const stream = uniqueName("twowriters");
  const type = "shared";
  let log: NatsEvtLog;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    if (!existsSync(BUILT)) {
      throw new Error(
        "this test runs the built packages: run `npm run build` (or `npx tsc -b packages/evtlog-nats`)",
      );
    }
    log = await NatsEvtLog.connect({ servers: NATS_URL, stream: { name: stream, subjectPrefix: stream } });
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await log?.close();
    const nc = await connectTestNats();
    await deleteStream(nc, stream);
    await nc.close();
  });

  it("loses and duplicates nothing, keeps seqNos contiguous and commands atomic, from the first event on", async () => {
    const writers = ["A", "B"].map((writer) =>
      startWriter(
        WRITER,
        [NATS_URL, stream, stream, type, "the-one", writer, String(COMMANDS_PER_WRITER)],
        writer,
      ),
    );
    children.push(...writers.map((w) => w.child));
    await Promise.all(writers.map((w) => w.ready));
    for (const w of writers) w.child.stdin?.end("go\n");
    const reports = await Promise.all(writers.map((w) => w.report));

    const records = [];
    for await (const record of log.evtsById(type, "the-one", { from: 1 })) records.push(record);
    const failed = reports.flatMap((r) => r.failed);
    expectLogMatchesAcks(records, reports, 2 * COMMANDS_PER_WRITER - failed.length);
    // The very first event was contested: both writers started at expected seqNo 0.
    expect(reports.every((r) => r.failed.length === 0)).toBe(true);
    expect(reports.reduce((n, r) => n + r.conflictRetries, 0)).toBeGreaterThan(0);
  }, 120_000);
});
