import { ErrorCode, type EvtRecord, silentLogger, type TypedEvtRecord } from "@eventsourced/core";
import { type PgPoolLike, PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { logPerSuite, testPool } from "./pg-test-database.js";

const evt = (text: string) => ({ bytes: new TextEncoder().encode(text) });

/** A page query as the pool saw it: which read, and where it starts. */
interface PageQuery {
  readonly read: "by-type" | "by-id";
  readonly from: number;
}

/**
 * A pool that notes every page query of the two paged reads (by type: `$2` is the position to read after;
 * by id: `$3` the first seqNo) and can fail the next one of them (`failNext`).
 */
function watchingPool(pool: pg.Pool) {
  const pages: PageQuery[] = [];
  /** Where the by-type pages cut on the server at the first unsettled row start (ADR 0139). */
  const cutPages: number[] = [];
  let failNext = false;
  const wrapped = {
    connect: () => pool.connect(),
    query: (config: string | { text: string; values: unknown[] }, values?: unknown[]) => {
      if (typeof config === "string") return pool.query(config, values);
      const byType = config.text.includes("position > $2");
      const byId = config.text.includes("seq_no >= $3");
      if (byType || byId) {
        pages.push({ read: byType ? "by-type" : "by-id", from: Number(config.values[byType ? 1 : 2]) });
        if (byType && config.text.includes("horizon")) cutPages.push(Number(config.values[1]));
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error("page read failed (test)"));
        }
      }
      return pool.query(config as pg.QueryConfig);
    },
  } as unknown as PgPoolLike;
  return {
    pool: wrapped,
    pages,
    cutPages,
    failNextPage: () => {
      failNext = true;
    },
  };
}

/**
 * Both paged reads ask for the next page while the consumer works on the current one (one query ahead), and
 * only then: not past a short page, and (by type) not past a page that stops at an unsettled row, which
 * `gap-free-by-type.test.ts` covers with pages of two.
 */
describe("PostgresEvtLog paged reads read one page ahead", () => {
  const { schema, log } = logPerSuite("read_ahead");
  let pool: pg.Pool;
  let watched: ReturnType<typeof watchingPool>;
  let reader: PostgresEvtLog;
  const positions: number[] = [];

  beforeAll(async () => {
    pool = await testPool(3);
    watched = watchingPool(pool);
    reader = await PostgresEvtLog.create({
      pool: watched.pool,
      maxConnections: 3,
      schema,
      readPageSize: 2,
      logger: silentLogger,
    });
    // Five events of one entity and type: pages of 2, 2 and 1.
    for (let seqNo = 0; seqNo < 5; seqNo++) {
      positions.push((await log().persist("ahead", "a", seqNo, [evt(`e${seqNo + 1}`)])).position);
    }
    // A by-type page is read again while an older write transaction anywhere on the server (another test's)
    // is still running. A read that is not live waits until every event is settled; from then on they stay
    // settled, so the page queries below are exactly those the read-ahead makes.
    for await (const _ of log().evtsByType("ahead"));
  });

  afterAll(async () => {
    await reader?.close();
    await pool?.end();
  });

  /** Takes the first record of `records`, lets the event loop run, and returns the page queries seen by then. */
  async function pagesAfterFirst<T>(records: AsyncIterable<T>): Promise<{ first: T; seen: PageQuery[] }> {
    watched.pages.length = 0;
    const iterator = records[Symbol.asyncIterator]();
    const first = (await iterator.next()).value as T;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const seen = [...watched.pages];
    await iterator.return?.();
    return { first, seen };
  }

  it("by type: the second page is asked for while the first one's records are delivered", async () => {
    const { first, seen } = await pagesAfterFirst<TypedEvtRecord>(reader.evtsByType("ahead"));
    expect(first.position).toBe(positions[0]);
    expect(seen).toEqual([
      { read: "by-type", from: 0 },
      { read: "by-type", from: positions[1] },
    ]);
  });

  it("by type: a whole read asks for each page once and nothing past the short last page", async () => {
    watched.pages.length = 0;
    const read: TypedEvtRecord[] = [];
    for await (const record of reader.evtsByType("ahead")) read.push(record);
    expect(read.map((r) => r.position)).toEqual(positions);
    expect(watched.pages).toEqual([
      { read: "by-type", from: 0 },
      { read: "by-type", from: positions[1] },
      { read: "by-type", from: positions[3] },
    ]);
  });

  it("by type: the pages it decides on are cut on the server, the pages read ahead are not", async () => {
    watched.pages.length = 0;
    watched.cutPages.length = 0;
    for await (const _ of reader.evtsByType("ahead"));
    // The first page; the second and third were read ahead (each behind a full, settled page).
    expect(watched.cutPages).toEqual([0]);
    watched.cutPages.length = 0;
    for await (const _ of reader.evtsByType("ahead", { after: positions[3] }));
    expect(watched.cutPages).toEqual([positions[3]]);
  });

  it("by id: the second page is asked for while the first one's records are delivered", async () => {
    const { first, seen } = await pagesAfterFirst<EvtRecord>(reader.evtsById("ahead", "a", { from: 1 }));
    expect(first.seqNo).toBe(1);
    expect(seen).toEqual([
      { read: "by-id", from: 1 },
      { read: "by-id", from: 3 },
    ]);
  });

  it("by type: a page read ahead that fails is reported to a reader that goes on, as ReadError", async () => {
    const iterator = reader.evtsByType("ahead")[Symbol.asyncIterator]();
    expect((await iterator.next()).value.position).toBe(positions[0]);
    // The read-ahead of the second page was sent with the first; fail the one after it (the third page).
    watched.failNextPage();
    expect((await iterator.next()).value.position).toBe(positions[1]);
    expect((await iterator.next()).value.position).toBe(positions[2]);
    expect((await iterator.next()).value.position).toBe(positions[3]);
    await expect(iterator.next()).rejects.toMatchObject({ code: ErrorCode.Read });
  });

  it("by type: a reader that stops before its read-ahead failed leaves nothing unhandled and can read again", async () => {
    const iterator = reader.evtsByType("ahead")[Symbol.asyncIterator]();
    watched.pages.length = 0;
    const first = iterator.next();
    watched.failNextPage(); // the first page is already asked for: this fails the read-ahead
    expect((await first).value.position).toBe(positions[0]);
    await iterator.return?.();
    // An unhandled rejection would fail this file; give it the time to surface.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(watched.pages).toHaveLength(2);
    const again: number[] = [];
    for await (const record of reader.evtsByType("ahead")) again.push(record.position);
    expect(again).toEqual(positions);
  });
});
