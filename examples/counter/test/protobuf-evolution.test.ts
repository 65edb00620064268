import { readFileSync } from "node:fs";
import {
  decodeEvts,
  defineEntity,
  Entity,
  type EvtLog,
  emitAndReply,
  protobufBinarizer,
  reply,
  silentLogger,
} from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTestNats,
  deleteStream,
  NATS_URL,
  uniqueName,
} from "../../../packages/evtlog-nats/test/support/nats-test-env.js";
import {
  DATABASE_URL,
  dropSchema,
  testPool,
  uniqueSchemaName,
} from "../../../packages/evtlog-postgres/test/pg-test-database.js";
import * as v1 from "../src/generated/counter.js";
import * as v2 from "../src/generated/evolution/counter_v2.js";

// Bytes that version 1 of the counter messages wrote (committed fixtures) read by version 2 code, on every
// log. Version 2 (proto/evolution/counter_v2.proto) reserved `old_value`, renamed `inc`/`dec` to `amount`,
// added optional fields and a new event kind, following the rules that keep old bytes readable.

interface Fixture {
  readonly contentType: string;
  readonly events: readonly { readonly v1: Record<string, string>; readonly hex: string }[];
  readonly snapshot: { readonly seqNo: number; readonly value: string; readonly hex: string };
}
const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/counter-v1.json", import.meta.url), "utf8"),
) as Fixture;
const bytesOf = (hex: string) => new Uint8Array(Buffer.from(hex, "hex"));
const EXPECTED = 5n + 10n - 3n + 1_099_511_627_776n;

const v2Binarizer = protobufBinarizer({
  evt: v2.CounterEvt,
  state: v2.CounterState,
  evtTypeName: "counter.v1.CounterEvt",
});

type V2Cmd =
  | { readonly kind: "add"; readonly amount: bigint; readonly reason: string }
  | { readonly kind: "reset" }
  | { readonly kind: "get" };

/** The counter as version 2 code defines it. */
const counterV2 = defineEntity<v2.CounterState, V2Cmd, v2.CounterEvt, v2.CounterState, never>({
  typeName: "counter",
  initialState: () => ({ value: 0n }),
  handleCmd: (state, cmd) => {
    if (cmd.kind === "get") return reply(state);
    const evt: v2.CounterEvt =
      cmd.kind === "reset"
        ? { evt: { $case: "reset", value: {} } }
        : { evt: { $case: "increased", value: { amount: cmd.amount, reason: cmd.reason } } };
    return emitAndReply<v2.CounterState, v2.CounterEvt, v2.CounterState>([evt], (after) => after);
  },
  handleEvt: (state, { evt }) => {
    // `updates` is absent in version 1 snapshots: version 2 counts from where it first sees one.
    const updates = (state.updates ?? 0n) + 1n;
    switch (evt?.$case) {
      case "increased":
        return { value: state.value + evt.value.amount, updates };
      case "decreased":
        return { value: state.value - evt.value.amount, updates };
      case "reset":
        return { value: 0n, updates };
      default:
        throw new Error("unknown counter event kind");
    }
  },
});

interface LogUnderTest {
  readonly name: string;
  open(): Promise<{ log: EvtLog; close(): Promise<void> }>;
}

const logs: LogUnderTest[] = [
  { name: "in memory", open: async () => ({ log: new InMemoryEvtLog(), close: async () => {} }) },
  {
    name: "PostgreSQL",
    async open() {
      await (await testPool(1)).end();
      const schema = uniqueSchemaName("proto_evolution");
      const log = await PostgresEvtLog.create({ connectionString: DATABASE_URL, schema, maxConnections: 2 });
      return { log, close: () => log.close().then(() => dropSchema(schema)) };
    },
  },
  {
    name: "NATS",
    async open() {
      const stream = uniqueName("proto_evolution");
      const log = await NatsEvtLog.connect({
        servers: NATS_URL,
        stream: { name: stream, subjectPrefix: stream, storage: "memory" },
      });
      return {
        log,
        async close() {
          await log.close();
          const nc = await connectTestNats();
          await deleteStream(nc, stream);
          await nc.close();
        },
      };
    },
  },
];

describe("the committed version 1 fixtures", () => {
  it("are exactly what version 1 code writes", () => {
    expect(fixture.contentType).toBe(`application/x-protobuf; messageType=${v1.protobufPackage}.CounterEvt`);
    for (const { v1: evt, hex } of fixture.events) {
      const { kind, ...fields } = evt;
      const value = Object.fromEntries(Object.entries(fields).map(([k, n]) => [k, BigInt(n)]));
      const encoded = v1.CounterEvt.encode({
        evt: { $case: kind, value } as unknown as v1.CounterEvt["evt"],
      }).finish();
      expect(Buffer.from(encoded).toString("hex")).toBe(hex);
    }
    expect(Buffer.from(v1.CounterState.encode({ value: 12n }).finish()).toString("hex")).toBe(
      fixture.snapshot.hex,
    );
  });

  it("version 1 code still reads what version 2 writes for the kinds it knows, and sees no case for new ones", () => {
    const increased = v2.CounterEvt.encode({
      evt: { $case: "increased", value: { amount: 7n, reason: "r" } },
    }).finish();
    expect(v1.CounterEvt.decode(increased).evt).toEqual({
      $case: "increased",
      value: { oldValue: 0n, inc: 7n },
    });
    const reset = v2.CounterEvt.encode({ evt: { $case: "reset", value: {} } }).finish();
    expect(v1.CounterEvt.decode(reset).evt).toBeUndefined();
  });
});

describe.each(logs)("version 1 bytes read by version 2 code on the $name log", (subject) => {
  let opened: Awaited<ReturnType<LogUnderTest["open"]>>;

  beforeAll(async () => {
    opened = await subject.open();
    // The log as version 1 of the application left it: one persist per event, the v1 content type.
    for (const [i, { hex }] of fixture.events.entries()) {
      await opened.log.persist("counter", "c1", i, [
        { bytes: bytesOf(hex), contentType: fixture.contentType },
      ]);
    }
  });
  afterAll(async () => {
    await opened?.close();
  });

  it("decodes every old event: the reserved field is skipped, renamed fields keep their values, new optional fields are absent", async () => {
    const decoded = [];
    for await (const record of opened.log.evtsById("counter", "c1", { from: 1 })) {
      expect(record.contentType).toBe(fixture.contentType);
      decoded.push(...decodeEvts(v2Binarizer, record));
    }
    expect(decoded).toEqual([
      { evt: { $case: "increased", value: { amount: 5n } } },
      { evt: { $case: "increased", value: { amount: 10n } } },
      { evt: { $case: "decreased", value: { amount: 3n } } },
      { evt: { $case: "increased", value: { amount: 1_099_511_627_776n } } },
    ]);
    for (const evt of decoded) expect((evt.evt!.value as { reason?: string }).reason).toBeUndefined();
  });

  it("recovers the counter from the old events alone, and from the old snapshot plus the events after it", async () => {
    const replayed = await Entity.spawn("c1", counterV2, { evtLog: opened.log, binarizer: v2Binarizer });
    expect(await replayed.handleCmd({ kind: "get" })).toMatchObject({
      reply: { value: EXPECTED, updates: 4n },
      seqNo: 4,
    });
    const snapshotStore = new InMemorySnapshotStore();
    await snapshotStore.save("counter", "c1", {
      seqNo: fixture.snapshot.seqNo,
      bytes: bytesOf(fixture.snapshot.hex),
    });
    const fromSnapshot = await Entity.spawn("c1", counterV2, {
      evtLog: opened.log,
      binarizer: v2Binarizer,
      snapshotStore,
    });
    // The version 1 snapshot has no `updates`: version 2 sees it absent and counts the one event after it.
    expect(await fromSnapshot.handleCmd({ kind: "get" })).toMatchObject({
      reply: { value: EXPECTED, updates: 1n },
    });
  });

  it("continues the history with version 2 events, and recovers old and new together", async () => {
    const ref = await Entity.spawn("c1", counterV2, {
      evtLog: opened.log,
      binarizer: v2Binarizer,
      logger: silentLogger,
    });
    await ref.handleCmd({ kind: "add", amount: 1n, reason: "v2" });
    await ref.handleCmd({ kind: "reset" });
    await ref.handleCmd({ kind: "add", amount: 40n, reason: "after reset" });
    await ref.stop();
    const again = await Entity.spawn("c1", counterV2, { evtLog: opened.log, binarizer: v2Binarizer });
    expect(await again.handleCmd({ kind: "get" })).toMatchObject({
      reply: { value: 40n, updates: 7n },
      seqNo: 7,
    });
  });
});
