import { InvalidArgumentError, PersistError, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { classifyQueryFailure } from "@eventsourced/evtlog-postgres/internal";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DATABASE_URL, dropSchema, logPerSuite, testPool, uniqueSchemaName } from "./pg-test-database.js";

const encoder = new TextEncoder();
const evt = (text: string) => ({ bytes: encoder.encode(text) });

/** The error a statement fails with, from a real server. */
async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  return run().then(
    () => {
      throw new Error("expected the statement to fail");
    },
    (err: unknown) => err,
  );
}

describe("classifying the failures of real statements", () => {
  it("a server error: known outcome, connection kept", async () => {
    const pool = await testPool(1);
    try {
      const err = await failureOf(() => pool.query("SELEC 1"));
      expect(classifyQueryFailure(err)).toMatchObject({
        kind: "server",
        outcomeUnknown: false,
        discardConnection: false,
      });
    } finally {
      await pool.end();
    }
  });

  it("a terminated backend: unknown outcome, connection discarded", async () => {
    const admin = await testPool(1);
    const client = new pg.Client({ connectionString: DATABASE_URL });
    client.on("error", () => {});
    await client.connect();
    try {
      const pid = (await client.query("SELECT pg_backend_pid() AS pid")).rows[0].pid as number;
      const sleeping = failureOf(() => client.query("SELECT pg_sleep(10)"));
      await new Promise((resolve) => setTimeout(resolve, 200));
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      expect(classifyQueryFailure(await sleeping)).toMatchObject({
        kind: "lost",
        outcomeUnknown: true,
        discardConnection: true,
      });
    } finally {
      await client.end().catch(() => {});
      await admin.end();
    }
  });

  it("a statement on a closed client: nothing sent, connection discarded", async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.end();
    const err = await failureOf(() => client.query("SELECT 1"));
    expect(classifyQueryFailure(err)).toMatchObject({
      kind: "notSent",
      outcomeUnknown: false,
      discardConnection: true,
    });
  });

  it("a client that stopped waiting (query_timeout): unknown outcome, connection discarded", async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL, query_timeout: 100 });
    await client.connect();
    try {
      const err = await failureOf(() => client.query("SELECT pg_sleep(1)"));
      expect(classifyQueryFailure(err)).toMatchObject({
        kind: "timedOut",
        outcomeUnknown: true,
        discardConnection: true,
      });
    } finally {
      await client.end().catch(() => {});
    }
  });

  it("a named statement pg failed to bind is gone on the server: the connection is discarded", async () => {
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      const bind = await failureOf(() =>
        client.query({ name: "s1", text: "SELECT $1::text", values: [circular] }),
      );
      // No SQLSTATE and nothing to tell "before sending" from "after": the outcome counts as unknown.
      expect(classifyQueryFailure(bind)).toMatchObject({ kind: "client", outcomeUnknown: true });
      const stale = await failureOf(() =>
        client.query({ name: "s1", text: "SELECT $1::text", values: ["x"] }),
      );
      expect(classifyQueryFailure(stale)).toMatchObject({
        kind: "server",
        sqlState: "26000",
        discardConnection: true,
      });
    } finally {
      await client.end().catch(() => {});
    }
  });
});

describe("PostgresEvtLog with errors that carry no SQLSTATE", () => {
  const { log } = logPerSuite("no_sqlstate");

  it("refuses an event whose metadata cannot be stored, alone, before sending; the batch and the connection are unaffected", async () => {
    await log().persist("nosql", "warm-up", 0, [evt("0")]);
    const before = log().stats;
    const unserialisable = { headers: { n: 1n as unknown as string } };
    const results = await Promise.allSettled([
      log().persist("nosql", "ok-1", 0, [evt("1")]),
      log().persist("nosql", "bad", 0, [{ bytes: encoder.encode("b"), metadata: unserialisable }]),
      log().persist("nosql", "ok-2", 0, [evt("2")]),
    ]);
    expect(results[0]).toEqual({ status: "fulfilled", value: { seqNo: 1, position: expect.any(Number) } });
    expect(results[2]).toEqual({ status: "fulfilled", value: { seqNo: 1, position: expect.any(Number) } });
    const refused = (results[1] as PromiseRejectedResult).reason;
    expect(refused).toBeInstanceOf(InvalidArgumentError);
    expect(refused.message).toContain("event 0: metadata");
    expect(log().stats.reconnects).toBe(before.reconnects);
    expect(await log().lastSeqNo("nosql", "bad")).toBe(0);
  });

  it("refuses event bytes that are not a Uint8Array, before sending", async () => {
    const before = log().stats;
    const err = await log()
      .persist("nosql", "text", 0, [{ bytes: "abc" as unknown as Uint8Array }])
      .catch((e) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(log().stats.reconnects).toBe(before.reconnects);
    expect(await log().lastSeqNo("nosql", "text")).toBe(0);
  });
});

describe("PostgresEvtLog when the client fails after the server answered", () => {
  const schema = uniqueSchemaName("client_fail");
  let pool: pg.Pool;
  let log: PostgresEvtLog;
  let failNextPosition = false;

  beforeAll(async () => {
    // A type parser that throws once stands in for any client-side failure after the statement ran.
    pool = new pg.Pool({
      connectionString: DATABASE_URL,
      max: 3,
      types: {
        getTypeParser: ((oid: number, format?: "text" | "binary") => {
          const parse = pg.types.getTypeParser(oid, format as "text");
          if (oid !== 20) return parse;
          return (value: string) => {
            if (failNextPosition) {
              failNextPosition = false;
              throw new Error("cannot parse the position");
            }
            return parse(value);
          };
        }) as typeof pg.types.getTypeParser,
      },
    });
    log = await PostgresEvtLog.create({ pool, maxConnections: 3, schema, logger: silentLogger });
  });
  afterAll(async () => {
    await log?.close();
    await pool?.end();
    await dropSchema(schema);
  });

  it("reports an unknown outcome (the write committed) and keeps using the connection", async () => {
    await log.persist("late", "warm-up", 0, [evt("0")]);
    const before = log.stats;
    failNextPosition = true;
    const err = await log.persist("late", "x", 0, [evt("1")]).catch((e) => e);
    expect(err).toBeInstanceOf(PersistError);
    expect(err.outcomeUnknown).toBe(true);
    // The truth is in the log: the statement committed before the client failed on its answer.
    expect(await log.lastSeqNo("late", "x")).toBe(1);
    expect((await log.persist("late", "x", 1, [evt("2")])).seqNo).toBe(2);
    expect(log.stats.reconnects).toBe(before.reconnects);
  });
});
