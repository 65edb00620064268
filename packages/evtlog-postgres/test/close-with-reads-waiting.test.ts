import { ReadError, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { afterAll, describe, expect, it } from "vitest";
import { DATABASE_URL, dropSchema, uniqueSchemaName } from "./pg-test-database.js";

// Reads sent as the log closes wait in pg.Pool's queue for a connection. pg.Pool#end never hands them one
// (an ending pool serves no waiter) and never fails them either: they waited for the connect timeout (10 s),
// and a process with nothing else to do exited with them unsettled (that timer is unref'd).

describe("closing a log while reads wait for a connection of its own pool", () => {
  const schema = uniqueSchemaName("close_reads");
  afterAll(async () => {
    await dropSchema(schema);
  });

  it("fails each of them at once with a ReadError saying the log closed", async () => {
    const log = await PostgresEvtLog.create({
      connectionString: DATABASE_URL,
      schema,
      maxConnections: 2,
      logger: silentLogger,
    });
    const reads = Array.from({ length: 40 }, (_, i) =>
      log.lastSeqNo("t", `e${i}`).then(
        (seqNo) => ({ seqNo }),
        (err: unknown) => err,
      ),
    );
    await log.close();
    const outcomes = await Promise.all(reads);
    // Each either read (it had a connection) or failed as closed, none after pg's connect timeout.
    for (const outcome of outcomes) {
      if (outcome instanceof Error) {
        expect(outcome).toBeInstanceOf(ReadError);
        expect(outcome.message).toMatch(/the pool was ended before a connection was free for this statement/);
      } else {
        expect(outcome).toEqual({ seqNo: 0 });
      }
    }
  }, 30_000);
});
