import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { netChangeOf } from "../src/workload.js";
import { assertBuilt, lineStartingWith, runExample } from "./example-process.js";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const stream = `COUNTER_E2E_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
const bucketStream = `KV_${stream}-snapshots`;
const tmp = mkdtempSync(join(tmpdir(), "counter-e2e-nats-"));
const summaryFile = join(tmp, "summary.json");
const env = {
  APP__EVT_LOG__KIND: "nats",
  APP__EVT_LOG__NATS__URL: NATS_URL,
  APP__EVT_LOG__NATS__STREAM: stream,
  APP__COUNTER__ENTITY_COUNT: "3",
  APP__COUNTER__EVT_COUNT: "5",
  APP__COUNTER__SNAPSHOT_AFTER: "4",
  APP__OUTPUT__SUMMARY_FILE: summaryFile,
};
let nc: NatsConnection;
let jsm: JetStreamManager;

async function messages(name: string): Promise<number> {
  return (await jsm.streams.info(name)).state.messages;
}

beforeAll(async () => {
  assertBuilt();
  try {
    nc = await connect({ servers: NATS_URL, timeout: 5_000 });
  } catch (cause) {
    throw new Error(
      `NATS is not reachable at ${NATS_URL} (${(cause as Error).message}); start it with ` +
        "`start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js " +
        "-sd /var/lib/nats-server -l /var/log/nats-server.log` or set NATS_URL",
    );
  }
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  for (const name of [stream, bucketStream, `KV_${stream}-counter-runs`]) {
    await jsm?.streams.delete(name).catch(() => false);
  }
  await nc?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("the counter example on NATS JetStream", { timeout: 60_000 }, () => {
  it("writes every command, recovers every counter and says they are verified", async () => {
    const run = await runExample({ env });
    expect(run.code, run.stderr).toBe(0);
    expect(lineStartingWith(run.stdout, "counter:")).toContain(
      `3 counters x 5 commands on NATS at ${NATS_URL}`,
    );
    expect(lineStartingWith(run.stdout, "start:")).toMatch(/sum to 0$/);
    expect(lineStartingWith(run.stdout, "write phase:")).toMatch(/^write phase: 15 commands in /);
    expect(lineStartingWith(run.stdout, "recovery:")).toMatch(
      /^recovery: 3 counters in .*, 3 events replayed/,
    );
    expect(lineStartingWith(run.stdout, "verified:")).toContain(
      "all 3 recovered values equal the expected values",
    );
    expect(JSON.parse(readFileSync(summaryFile, "utf8"))).toMatchObject({
      log: "nats",
      commands: 15,
      verified: true,
    });
    // One message per command (each emits one event) and the run's epoch marker per counter (its writes are
    // fenced by its run lease), and one snapshot per counter in the KV bucket.
    expect(await messages(stream)).toBe(15 + 3);
    expect(await messages(bucketStream)).toBe(3);
  });

  it("continues from the recovered values on a second run", async () => {
    const run = await runExample({ env });
    expect(run.code, run.stderr).toBe(0);
    expect(lineStartingWith(run.stdout, "start:")).toMatch(new RegExp(`sum to ${3n * netChangeOf(5)}$`));
    expect(lineStartingWith(run.stdout, "verified:")).toContain("all 3");
    // Each run marks each counter with its epoch once.
    expect(await messages(stream)).toBe(30 + 2 * 3);
  });
});
