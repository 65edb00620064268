import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { silentLogger, type TypedEvtRecord } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, dropSchema, testPool, uniqueSchemaName } from "./pg-test-database.js";

// Several writer processes commit out of position order all the time (the log lock is released before each
// commit, ADR 0108); one is killed with SIGKILL mid-run. A live by-type reader in this process must deliver
// every committed event exactly once, in position order, and every acknowledged persist must be among them.
// Two writers drive enough entities on a large enough pool for their committers to keep two batches in
// flight (ADR 0116), the killed one among them. Runs the built dist (`npx tsc -b` first).

const FIXTURE = fileURLToPath(new URL("./fixtures/writer-process.mjs", import.meta.url));
const WRITERS = 3;
/** Entities and pool size per writer: 600 on 10 connections gives two committer lanes, 20 on 2 one. */
const SHAPES = [
  { entities: 600, maxConnections: 10 },
  { entities: 600, maxConnections: 10 },
  { entities: 20, maxConnections: 2 },
] as const;
const DURATION_MS = 2500;

interface Writer {
  readonly child: ChildProcess;
  readonly acks: { id: string; seqNo: number; position: number; events: number }[];
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
}

function startWriter(schema: string, index: number): Writer {
  const child = spawn(process.execPath, [FIXTURE], {
    env: {
      ...process.env,
      DATABASE_URL,
      SCHEMA: schema,
      TYPE: "mp",
      PREFIX: `w${index}`,
      ENTITIES: String(SHAPES[index]!.entities),
      MAX_CONNECTIONS: String(SHAPES[index]!.maxConnections),
      DURATION_MS: String(DURATION_MS),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const acks: Writer["acks"] = [];
  let buffered = "";
  let stderr = "";
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "ready") onReady();
      const [tag, id, seqNo, position, events] = line.split(" ");
      if (tag === "ack")
        acks.push({ id: id!, seqNo: Number(seqNo), position: Number(position), events: Number(events) });
    }
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve, reject) =>
    child.once("exit", (code, signal) =>
      code === 0 || signal === "SIGKILL"
        ? resolve()
        : reject(new Error(`writer ${index} exited ${code ?? signal}: ${stderr}`)),
    ),
  );
  return { child, acks, ready, exited };
}

describe("PostgresEvtLog by-type reads with several writer processes", () => {
  const schema = uniqueSchemaName("mp_by_type");
  let reader: PostgresEvtLog;
  /** Reads pages of 7: whenever it is 7 events behind it reads ahead, while commits land out of order. */
  let smallPagesReader: PostgresEvtLog;

  beforeAll(async () => {
    const options = {
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 3,
      pollIntervalMs: 50,
      logger: silentLogger,
    };
    reader = await PostgresEvtLog.create(options);
    smallPagesReader = await PostgresEvtLog.create({ ...options, readPageSize: 7 });
  });
  afterAll(async () => {
    await reader?.close();
    await smallPagesReader?.close();
    await dropSchema(schema);
  });

  it("delivers every committed event once, in position order, while processes commit out of order and one is killed", async () => {
    const controller = new AbortController();
    const seen: TypedEvtRecord[] = [];
    const seenInSmallPages: TypedEvtRecord[] = [];
    const readLive = async (from: PostgresEvtLog, into: TypedEvtRecord[]) => {
      for await (const r of from.evtsByType("mp", { live: true, signal: controller.signal })) into.push(r);
    };
    const reading = Promise.all([readLive(reader, seen), readLive(smallPagesReader, seenInSmallPages)]);
    const writers = Array.from({ length: WRITERS }, (_, i) => startWriter(schema, i));
    try {
      await Promise.all(writers.map((w) => w.ready));
      await new Promise((resolve) => setTimeout(resolve, DURATION_MS / 2));
      writers[0]!.child.kill("SIGKILL");
      await Promise.all(writers.map((w) => w.exited));

      // Everything committed, as the table has it once every writer is gone.
      const pool = await testPool(1);
      const stored = (
        await pool.query(
          `SELECT position::int8 AS position FROM "${schema}".events WHERE type = 'mp' ORDER BY position`,
        )
      ).rows.map((row: { position: string }) => Number(row.position));
      await pool.end();
      const deadline = Date.now() + 20_000;
      const behind = () => seen.length < stored.length || seenInSmallPages.length < stored.length;
      while (behind() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      controller.abort();
      await reading;

      expect(stored.length).toBeGreaterThan(SHAPES.reduce((sum, shape) => sum + shape.entities, 0));
      expect(seen.map((r) => r.position)).toEqual(stored);
      expect(seenInSmallPages.map((r) => r.position)).toEqual(stored);
      // Each acknowledged persist's events are delivered with the positions it was told.
      const delivered = new Map(seen.map((r) => [`${r.id}/${r.seqNo}`, r.position]));
      const acks = writers.flatMap((w) => w.acks);
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) expect(delivered.get(`${ack.id}/${ack.seqNo}`)).toBe(ack.position);
      // Per entity, seqNos are contiguous from 1.
      const byEntity = new Map<string, number[]>();
      for (const r of seen) byEntity.set(r.id, [...(byEntity.get(r.id) ?? []), r.seqNo]);
      for (const seqNos of byEntity.values()) expect(seqNos).toEqual(seqNos.map((_, i) => i + 1));
    } finally {
      controller.abort();
      for (const w of writers) w.child.kill("SIGKILL");
      await reading.catch(() => {});
    }
  });
});
