import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type DuplicateResult,
  defineEntity,
  Entity,
  type EvtLog,
  emit,
  IDEMPOTENCY_KEY_HEADER,
  jsonFromBytes,
  silentLogger,
} from "@eventsourced/core";
import { InMemorySnapshotStore } from "@eventsourced/core/testing";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTestNats,
  deleteStream,
  NATS_URL,
  uniqueName,
} from "../packages/evtlog-nats/test/support/nats-test-env.js";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../packages/evtlog-postgres/test/pg-test-database.js";
import { startWriter } from "./support/writer-process.js";

// Idempotency keys on the real logs: two separate Node processes send the same keys to the same entity
// (each key must be applied once, whoever gets there first), and a restarted entity still recognises
// the keys of commands it applied before (the window is rebuilt from the log, across a snapshot).

const SENDER = fileURLToPath(new URL("./fixtures/idempotent-sender.mjs", import.meta.url));
const BUILT = ["core", "evtlog-postgres", "evtlog-nats"].map((p) =>
  fileURLToPath(new URL(`../packages/${p}/dist/index.js`, import.meta.url)),
);
const KEYS = 60;

interface SenderReport {
  readonly applied: readonly string[];
  readonly duplicates: readonly string[];
  readonly failed: readonly string[];
}

const counter = (typeName: string) =>
  defineEntity<number, { by: number }, { by: number }, void, never>({
    typeName,
    initialState: () => 0,
    handleCmd: (_state, cmd) => emit({ by: cmd.by }),
    handleEvt: (state, evt) => state + evt.by,
  });

interface Backend {
  readonly name: string;
  /** Opens the log the test reads with, and the sender arguments naming the same storage. */
  open(): Promise<{ log: EvtLog & { close(): Promise<void> }; args: string[]; cleanup(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: "PostgreSQL",
    async open() {
      await (await testPool(1)).end();
      const schema = uniqueSchemaName("idem_procs");
      const log = await PostgresEvtLog.create({ connectionString: DATABASE_URL, schema, maxConnections: 3 });
      return { log, args: ["postgres", DATABASE_URL, schema], cleanup: () => dropSchema(schema) };
    },
  },
  {
    name: "NATS",
    async open() {
      const stream = uniqueName("idem_procs");
      const log = await NatsEvtLog.connect({
        servers: NATS_URL,
        stream: { name: stream, subjectPrefix: stream },
      });
      const cleanup = async () => {
        const nc = await connectTestNats();
        await deleteStream(nc, stream);
        await nc.close();
      };
      return { log, args: ["nats", NATS_URL, stream], cleanup };
    },
  },
];

describe.each(backends)("idempotency keys on $name", (backend) => {
  let opened: Awaited<ReturnType<Backend["open"]>>;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    for (const file of BUILT) {
      if (!existsSync(file)) throw new Error("this test runs the built packages: run `npm run build` first");
    }
    opened = await backend.open();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await opened?.log.close();
    await opened?.cleanup();
  });

  it("two processes sending the same keys to the same entity: each key is applied once", async () => {
    const senders = ["A", "B"].map((name) =>
      startWriter(SENDER, [...opened.args, "twice", "the-one", String(KEYS)], name),
    );
    children.push(...senders.map((s) => s.child));
    await Promise.all(senders.map((s) => s.ready));
    for (const s of senders) s.child.stdin?.end("go\n");
    const reports = (await Promise.all(senders.map((s) => s.report))) as unknown as SenderReport[];
    const all = Array.from({ length: KEYS }, (_, i) => `key-${i}`);
    for (const r of reports) {
      expect(r.failed).toEqual([]);
      expect([...r.applied, ...r.duplicates].sort()).toEqual([...all].sort());
    }
    const [a, b] = reports as [SenderReport, SenderReport];
    expect(a.applied.filter((key) => b.applied.includes(key))).toEqual([]);
    expect(a.applied.length + b.applied.length).toBe(KEYS);
    // Whatever one process applied, the other found applied.
    expect(a.duplicates.length + b.duplicates.length).toBe(KEYS);

    const keys: string[] = [];
    for await (const r of opened.log.evtsById("twice", "the-one", { from: 1 })) {
      expect(jsonFromBytes<{ by: number }>(r.bytes).by).toBe(1);
      keys.push(r.metadata?.headers?.[IDEMPOTENCY_KEY_HEADER] ?? "(none)");
    }
    expect(keys.sort()).toEqual([...all].sort());
    const recovered = await Entity.spawn("the-one", counter("twice"), {
      evtLog: opened.log,
      logger: silentLogger,
    });
    expect(recovered.seqNo).toBe(KEYS);
    await recovered.stop();
  }, 120_000);

  it("recovery rebuilds the window from the log, across a snapshot: a retried key is a duplicate", async () => {
    const snapshotStore = new InMemorySnapshotStore();
    const options = {
      evtLog: opened.log,
      snapshotStore,
      snapshotAfter: 4,
      idempotency: { maxKeys: 100 },
      logger: silentLogger,
    };
    const first = await Entity.spawn("again", counter("window"), options);
    const seqNos: number[] = [];
    for (let i = 0; i < 10; i++) {
      const result = await first.handleCmd({ by: i }, { idempotencyKey: `w-${i}` });
      seqNos.push(result.seqNo);
    }
    await first.stop();
    expect((await snapshotStore.load("window", "again"))?.seqNo).toBe(8);
    const second = await Entity.spawn("again", counter("window"), options);
    for (let i = 0; i < 10; i++) {
      const result = (await second.handleCmd({ by: i }, { idempotencyKey: `w-${i}` })) as DuplicateResult;
      expect(result).toMatchObject({ kind: "duplicate", seqNo: seqNos[i] });
      expect(result.position).toBeGreaterThan(0);
    }
    expect(second.seqNo).toBe(10);
    await second.stop();
  });
});
