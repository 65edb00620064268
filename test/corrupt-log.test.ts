import { DecodeError, defineEntity, Entity, type EvtLog, emit } from "@eventsourced/core";
import { NatsEvtLog, Subjects } from "@eventsourced/evtlog-nats";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { jetstream } from "@nats-io/jetstream";
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

// Fault test from the design brief: corrupt bytes in a real log. Recovery must fail with a typed error that
// names the entity and the seqNo, and must not serve a state that is not the fold of the log.

type Evt = { readonly added: number };
const summer = defineEntity({
  typeName: "summer",
  initialState: () => 0,
  handleCmd: (_state: number, cmd: { readonly add: number }) => emit<Evt>({ added: cmd.add }),
  handleEvt: (state, evt) => state + evt.added,
});

async function writeTwoGoodEvents(evtLog: EvtLog, id: string): Promise<void> {
  const ref = await Entity.spawn(id, summer, { evtLog });
  await ref.handleCmd({ add: 1 });
  await ref.handleCmd({ add: 2 });
  await ref.stop();
}

describe("corrupt bytes in PostgreSQL", () => {
  const schema = uniqueSchemaName("corrupt");
  let log: PostgresEvtLog;

  beforeAll(async () => {
    await (await testPool(1)).end();
    log = await PostgresEvtLog.create({ connectionString: DATABASE_URL, schema });
  });
  afterAll(async () => {
    await log?.close();
    await dropSchema(schema);
  });

  it("an event whose stored bytes were damaged fails recovery with a DecodeError naming type, id and seqNo", async () => {
    await writeTwoGoodEvents(log, "damaged");
    const pool = await testPool(1);
    try {
      const updated = await pool.query(
        `UPDATE "${schema}".events SET bytes = '\\xfffe00'::bytea WHERE type = 'summer' AND id = 'damaged' AND seq_no = 2`,
      );
      expect(updated.rowCount).toBe(1);
    } finally {
      await pool.end();
    }
    const spawned = Entity.spawn("damaged", summer, { evtLog: log });
    await expect(spawned).rejects.toBeInstanceOf(DecodeError);
    await expect(spawned).rejects.toMatchObject({ type: "summer", id: "damaged", seqNo: 2, what: "event" });
  });

  it("an event written by another program in a foreign encoding fails recovery at its seqNo; earlier events stay readable", async () => {
    await writeTwoGoodEvents(log, "foreign");
    await log.persist("summer", "foreign", 2, [
      { bytes: new TextEncoder().encode("not json"), contentType: "text/plain" },
    ]);
    await expect(Entity.spawn("foreign", summer, { evtLog: log })).rejects.toMatchObject({
      code: "DECODE_FAILED",
      seqNo: 3,
    });
    const seqNos: number[] = [];
    for await (const record of log.evtsById("summer", "foreign", { from: 1, to: 2 }))
      seqNos.push(record.seqNo);
    expect(seqNos).toEqual([1, 2]);
  });
});

describe("corrupt bytes in NATS JetStream", () => {
  const stream = uniqueName("corrupt");
  const subjectPrefix = stream.replaceAll("_", "-");
  let log: NatsEvtLog;

  beforeAll(async () => {
    log = await NatsEvtLog.connect({ servers: NATS_URL, stream: { name: stream, subjectPrefix } });
  });
  afterAll(async () => {
    await log?.close();
    const nc = await connectTestNats();
    await deleteStream(nc, stream);
    await nc.close();
  });

  it("an event in a foreign encoding fails recovery with a DecodeError naming its seqNo", async () => {
    await writeTwoGoodEvents(log, "foreign");
    await log.persist("summer", "foreign", 2, [{ bytes: new Uint8Array([0xff, 0x00, 0x13]) }]);
    const spawned = Entity.spawn("foreign", summer, { evtLog: log });
    await expect(spawned).rejects.toBeInstanceOf(DecodeError);
    await expect(spawned).rejects.toMatchObject({ type: "summer", id: "foreign", seqNo: 3 });
  });

  it("a message on an entity's subject that is not an envelope fails recovery with a DecodeError, not a wrong state", async () => {
    await writeTwoGoodEvents(log, "garbage");
    const nc = await connectTestNats();
    try {
      await jetstream(nc).publish(
        new Subjects(subjectPrefix).entity("summer", "garbage"),
        "definitely not protobuf",
      );
    } finally {
      await nc.close();
    }
    const error = await Entity.spawn("garbage", summer, { evtLog: log }).then(
      () => undefined,
      (err: unknown) => err,
    );
    // The envelope itself is unreadable, so no seqNo is known: the error names the stream message instead.
    expect(error).toBeInstanceOf(DecodeError);
    expect(error).toMatchObject({ code: "DECODE_FAILED", type: "summer", id: "garbage" });
    expect((error as Error).message).toMatch(/stream message \d+ is not an eventsourced event batch/);
  });
});
