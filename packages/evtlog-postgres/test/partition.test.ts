import { PersistError, ReadError, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { FaultProxy } from "../../../test/support/fault-proxy.js";
import { within } from "../../../test/support/within.js";
import { DATABASE_URL, dropSchema, uniqueSchemaName } from "./pg-test-database.js";

// A network partition during normal running (packets dropped both ways, no reset). Without a bound, a batch
// statement or a read in flight waits until TCP gives up, many minutes later, and so does every persist of
// the entities behind it. With `queryTimeoutMs` each fails once its statement has gone that long
// unanswered, and its connection is destroyed, never reused.

const evt = (text: string) => [{ bytes: new TextEncoder().encode(text) }];
const QUERY_TIMEOUT_MS = 300;
const decoder = new TextDecoder();

async function texts(log: PostgresEvtLog, id: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of log.evtsById("t", id, { from: 1 })) out.push(decoder.decode(e.bytes));
  return out;
}

describe.concurrent("a network partition while the log runs", () => {
  const schema = uniqueSchemaName("partition");
  afterAll(async () => {
    await dropSchema(schema);
  });

  for (const passedPool of [false, true]) {
    it(`persists and a read in flight fail within queryTimeoutMs, typed; after it heals nothing was written twice (${passedPool ? "a pool passed in" : "the log's own pool"})`, async () => {
      const proxy = await FaultProxy.inFrontOf(DATABASE_URL, 5432);
      const pool = passedPool ? new pg.Pool({ connectionString: proxy.url, max: 4 }) : undefined;
      pool?.on("error", () => {});
      const log = await PostgresEvtLog.create({
        ...(pool === undefined ? { connectionString: proxy.url } : { pool }),
        schema,
        maxConnections: 4,
        queryTimeoutMs: QUERY_TIMEOUT_MS,
        closeTimeoutMs: 500,
        logger: silentLogger,
      });
      const ids = ["a", "b", "c"].map((id) => `${id}${passedPool ? "-passed" : "-own"}`);
      try {
        for (const id of ids) await log.persist("t", id, 0, evt(`${id}:1`));
        // The reader connections are open and idle, so the read goes out at once on one of them.
        await Promise.all([log.lastSeqNo("t", ids[0]!), log.lastSeqNo("t", ids[1]!)]);
        proxy.swallow = "both";
        const persists = ids.map((id) =>
          log.persist("t", id, 1, evt(`${id}:2`)).then(
            () => "acknowledged",
            (err: unknown) => err,
          ),
        );
        const read = log.lastSeqNo("t", ids[0]!).catch((err: unknown) => err);
        const settled = await within(Promise.all([...persists, read]), 10_000);
        expect(settled).not.toBe("still waiting");
        const errors = settled as unknown[];
        for (const err of errors.slice(0, ids.length)) {
          expect(err).toBeInstanceOf(PersistError);
          expect((err as PersistError).outcomeUnknown).toBe(true);
          expect((err as Error).message).toMatch(/did not answer within queryTimeoutMs/);
        }
        expect(errors[ids.length]).toBeInstanceOf(ReadError);

        proxy.swallow = "none";
        // The timed-out connections are gone (destroyed, not reused); the next persists reconnect. Each
        // entity's second event either committed before the partition swallowed the answer (a conflict now)
        // or not: written once either way.
        for (const id of ids) {
          const last = await log.lastSeqNo("t", id);
          expect([1, 2]).toContain(last);
          await log.persist("t", id, last, evt(`${id}:${last + 1}`));
          const seen = await texts(log, id);
          expect(seen).toEqual(Array.from({ length: last + 1 }, (_, i) => `${id}:${i + 1}`));
        }
      } finally {
        await log.close();
        // Before the pool passed in ends: a connection that pool opened during the partition lost its startup
        // message to the proxy (dropped, where a real network would deliver it late), and pg.Pool#end waits
        // for it until the server gives up on it (authentication_timeout, a minute by default).
        proxy.close();
        await pool?.end();
      }
    }, 30_000);
  }
});
