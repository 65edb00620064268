import { ErrorCode, isEventSourcedError, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { PostgresSnapshotStore } from "@eventsourced/snapshots/postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CountingPool, countingPool } from "./counting-pool.js";
import { dropSchema, testPool, uniqueSchemaName } from "./pg-test-database.js";

const evt = { bytes: new Uint8Array([1]) };
const BAD_IDS = ["", "nul\u0000inside", "\uD800", "x".repeat(513)];

async function errorOf(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  return undefined;
}

function isInvalidArgument(err: unknown): boolean {
  return isEventSourcedError(err, ErrorCode.InvalidArgument);
}

describe("PostgreSQL entry points with invalid arguments", () => {
  const schema = uniqueSchemaName("arguments");
  let pool: pg.Pool;
  let counting: CountingPool;
  let log: PostgresEvtLog;
  let snapshots: PostgresSnapshotStore;

  beforeAll(async () => {
    pool = await testPool(3);
    counting = countingPool(pool);
    log = await PostgresEvtLog.create({ pool: counting, maxConnections: 3, schema, logger: silentLogger });
    snapshots = await PostgresSnapshotStore.create({ pool: counting, schema });
  });
  afterAll(async () => {
    await log?.close();
    await snapshots?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  it("refuses an invalid id at every entry point with InvalidArgumentError, before anything reaches the driver", async () => {
    const before = { ...counting.calls };
    for (const id of BAD_IDS) {
      const calls = [
        () => log.persist("args", id, 0, [evt]),
        () => log.lastSeqNo("args", id),
        async () => {
          for await (const _ of log.evtsById("args", id, { from: 1 })) break;
        },
        () => snapshots.save("args", id, { seqNo: 1, bytes: new Uint8Array() }),
        () => snapshots.load("args", id),
      ];
      for (const [index, call] of calls.entries()) {
        expect(
          isInvalidArgument(await errorOf(call)),
          `call ${index}, id ${JSON.stringify(id.slice(0, 12))}`,
        ).toBe(true);
      }
    }
    expect(
      isInvalidArgument(await errorOf(() => log.evtsByType("bad.type")[Symbol.asyncIterator]().next())),
    ).toBe(true);
    expect(counting.calls).toEqual(before);
  });

  it("reports invalid read arguments when iteration starts, never at the call", async () => {
    const before = { ...counting.calls };
    const reads = [
      () => log.evtsById("args", "nul\u0000", { from: 1 }),
      () => log.evtsById("bad.type", "x", { from: 1 }),
      () => log.evtsById("args", "x", { from: 0 }),
      () => log.evtsById("args", "x", { from: Number.NaN }),
      () => log.evtsById("args", "x", { from: 1, to: Number.NaN }),
      () => log.evtsById("args", "x", { from: 1, to: 2.5 }),
      () => log.evtsByType("bad.type"),
      () => log.evtsByType("args", { after: -1 }),
      () => log.evtsByType("args", { after: Number.NaN }),
    ];
    for (const [index, read] of reads.entries()) {
      let iterable: AsyncIterable<unknown> | undefined;
      expect(() => {
        iterable = read();
      }, `read ${index}`).not.toThrow();
      const err = await errorOf(() => iterable![Symbol.asyncIterator]().next());
      expect(isInvalidArgument(err), `read ${index}`).toBe(true);
    }
    expect(counting.calls).toEqual(before);
  });

  it("refuses invalid persist arguments with InvalidArgumentError", async () => {
    for (const expected of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(
        isInvalidArgument(await errorOf(() => log.persist("args", "x", expected, [evt]))),
        `${expected}`,
      ).toBe(true);
    }
    expect(isInvalidArgument(await errorOf(() => log.persist("args", "x", 0, [])))).toBe(true);
    expect(await log.lastSeqNo("args", "x")).toBe(0);
  });
});
