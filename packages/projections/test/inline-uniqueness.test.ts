import {
  defineEntity,
  Entity,
  emit,
  isEventSourcedError,
  jsonBinarizer,
  reject,
  silentLogger,
} from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { inlineProjection, inlineProjections } from "@eventsourced/projections/postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dropSchema, namedPool, uniqueSchemaName } from "./support/pg-env.js";

// An inline projection keeps a uniqueness view (one user per e-mail address) in the persist's transaction.
// Eight writers (eight logs: eight committers, as eight processes) register users concurrently, many of them
// with the same addresses.

type Registered = { readonly type: "registered"; readonly email: string };

const user = defineEntity({
  typeName: "user",
  initialState: (): { email?: string } => ({}),
  commands: {
    register: (state, cmd: { email: string }) =>
      state.email !== undefined
        ? reject("already-registered")
        : emit({ type: "registered", email: cmd.email }),
  },
  handleEvt: (_state, evt: Registered) => ({ email: evt.email }),
});
const binarizer = jsonBinarizer<Registered, { email?: string }>();

const WRITERS = 8;
const USERS_PER_WRITER = 20;
const ADDRESSES = 40;

describe("an inline uniqueness view under eight concurrent writers", () => {
  const schema = uniqueSchemaName("inline");
  let pool: pg.Pool;
  const logs: PostgresEvtLog[] = [];

  beforeAll(async () => {
    pool = await namedPool(`inline-${schema}`, 4);
    await pool.query(`CREATE SCHEMA "${schema}"`);
    await pool.query(`CREATE TABLE "${schema}".emails (email text PRIMARY KEY, user_id text NOT NULL)`);
    const emails = inlineProjection<Registered>({
      name: "user-emails",
      type: "user",
      binarizer,
      handle: async (evts, tx) => {
        await tx.query(
          `INSERT INTO "${schema}".emails (email, user_id) SELECT * FROM unnest($1::text[], $2::text[])`,
          [evts.map((e) => e.evt.email), evts.map((e) => e.id)],
        );
      },
    });
    for (let w = 0; w < WRITERS; w++) {
      const writerPool = await namedPool(`inline-${schema}-${w}`, 3);
      logs.push(
        await PostgresEvtLog.create({
          pool: writerPool,
          schema,
          logger: silentLogger,
          inTransaction: inlineProjections(emails),
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(logs.map((log) => log.close()));
    await pool?.end();
    await dropSchema(schema);
  });

  it("fails only the persist its handler refuses: the others of the same group-commit batch are written", async () => {
    const log = logs[0]!;
    const evt = (email: string) => ({
      bytes: binarizer.evtToBytes({ type: "registered", email }),
      contentType: binarizer.contentType,
    });
    await log.persist("user", "first", 0, [evt("taken@example.com")]);
    const fallbacksBefore = log.stats.fallbacks;
    // Issued in one tick, so the committer writes them as one batch.
    const results = await Promise.allSettled([
      log.persist("user", "batch-a", 0, [evt("a@example.com")]),
      log.persist("user", "batch-b", 0, [evt("taken@example.com")]),
      log.persist("user", "batch-c", 0, [evt("c@example.com")]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      code: "INLINE_PROJECTION_REJECTED",
      id: "batch-b",
      cause: { code: "23505" },
    });
    expect(log.stats.fallbacks).toBe(fallbacksBefore + 1);
    expect(
      await Promise.all(["batch-a", "batch-b", "batch-c"].map((id) => log.lastSeqNo("user", id))),
    ).toEqual([1, 0, 1]);
  });

  it("commits no duplicate, rejects each losing command with its typed error, and writes the rest of its batch", async () => {
    const outcomes = await Promise.all(
      logs.flatMap((log, w) =>
        Array.from({ length: USERS_PER_WRITER }, async (_, k) => {
          const id = `u${w}-${k}`;
          const email = `m${(w * 7 + k * 3) % ADDRESSES}@example.com`;
          const ref = await Entity.spawn(id, user, { evtLog: log, binarizer, logger: silentLogger });
          try {
            const result = await ref.handleCmd({ type: "register", email });
            return { id, email, outcome: result.kind };
          } catch (err) {
            return {
              id,
              email,
              outcome: isEventSourcedError(err, "INLINE_PROJECTION_REJECTED") ? "lost" : String(err),
            };
          } finally {
            await ref.stop();
          }
        }),
      ),
    );
    expect(outcomes.filter((o) => o.outcome !== "accepted" && o.outcome !== "lost")).toEqual([]);
    const view = new Map(
      (await pool.query(`SELECT email, user_id FROM "${schema}".emails WHERE user_id LIKE 'u%'`)).rows.map(
        (r: { email: string; user_id: string }) => [r.email, r.user_id],
      ),
    );
    // Each address is held by exactly one user, the one whose registration was accepted.
    const accepted = outcomes.filter((o) => o.outcome === "accepted");
    expect(accepted.length).toBe(view.size);
    for (const o of accepted) expect(view.get(o.email)).toBe(o.id);
    // Every losing command lost to another user's committed registration, and wrote nothing.
    const lost = outcomes.filter((o) => o.outcome === "lost");
    expect(lost.length).toBe(WRITERS * USERS_PER_WRITER - view.size);
    for (const o of lost) {
      expect(view.get(o.email)).not.toBe(o.id);
      expect(await logs[0]!.lastSeqNo("user", o.id)).toBe(0);
    }
    // The log agrees with the view: no address registered twice.
    const registered: string[] = [];
    for await (const r of logs[0]!.evtsByType("user")) {
      if (r.id.startsWith("u")) registered.push(binarizer.evtFromBytes(r.bytes).email);
    }
    expect(registered.length).toBe(view.size);
    expect(new Set(registered).size).toBe(registered.length);
    // Batches that held a losing persist were written again persist by persist: the others went through.
    const fallbacks = logs.reduce((sum, log) => sum + log.stats.fallbacks, 0);
    expect(fallbacks).toBeGreaterThan(0);
    console.info(
      `inline uniqueness: ${accepted.length} accepted, ${lost.length} rejected, ${fallbacks} batches written persist by persist`,
    );
  });
});
