import type { LogFields, Logger } from "@eventsourced/core";
import { silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { countingPool } from "./counting-pool.js";
import { DATABASE_URL, dropSchema, uniqueSchemaName } from "./pg-test-database.js";

const evt = (text: string) => ({ bytes: new TextEncoder().encode(text) });

/** Fails instead of hanging when a read waits for a connection the committer never gives back. */
function within<T>(promise: Promise<T>, ms = 10_000): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)),
  ]);
}

async function persistReadAndTail(log: PostgresEvtLog): Promise<void> {
  await log.persist("pooled", "x", 0, [evt("1")]);
  expect(await within(log.lastSeqNo("pooled", "x"))).toBe(1);
  const live = new AbortController();
  const seen: number[] = [];
  const reader = (async () => {
    for await (const r of log.evtsByType("pooled", { live: true, signal: live.signal })) {
      seen.push(r.seqNo);
      if (seen.length === 2) live.abort();
    }
  })();
  await log.persist("pooled", "x", 1, [evt("2")]);
  await within(reader);
  expect(seen).toEqual([1, 2]);
}

describe("the size of a pool passed in", () => {
  it("is taken from maxConnections, never from the pool's private options: a pool of one serves writes, reads and a live reader", async () => {
    const schema = uniqueSchemaName("pool_of_one");
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const log = await PostgresEvtLog.create({
      pool: countingPool(pool),
      maxConnections: 1,
      schema,
      logger: silentLogger,
    });
    try {
      await persistReadAndTail(log);
    } finally {
      await log.close();
      await pool.end();
      await dropSchema(schema);
    }
  });

  it("is taken as one connection when maxConnections is not given, with a warning saying so", async () => {
    const schema = uniqueSchemaName("pool_unsized");
    const warnings: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (message: string, _fields?: LogFields) => warnings.push(message),
    };
    const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
    const log = await PostgresEvtLog.create({ pool: countingPool(pool), schema, logger });
    try {
      expect(warnings.some((w) => w.includes("maxConnections"))).toBe(true);
      await persistReadAndTail(log);
    } finally {
      await log.close();
      await pool.end();
      await dropSchema(schema);
    }
  });
});
