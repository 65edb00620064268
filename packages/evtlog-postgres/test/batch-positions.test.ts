import { type Persisted, SeqNoConflictError } from "@eventsourced/core";
import type { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { describe, expect, it } from "vitest";
import { logPerSuite, testPool } from "./pg-test-database.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const evt = (text: string) => ({ bytes: encoder.encode(text), metadata: { headers: { text } } });

interface Planned {
  readonly id: string;
  readonly expected: number;
  readonly texts: readonly string[];
  /** Whether the persist must lose (its expected seqNo is stale). */
  readonly conflicts: boolean;
}

/**
 * `persists` persists issued in one tick (so in one batch unless it exceeds the batch limits): every third
 * entity already exists, every fifth persist has three events (unless `singleEvents`: then every persist
 * has one, which the single-events statement writes), every seventh expects a stale seqNo. With
 * `allExisting`, every entity exists (and every persist has one event): the advances statement's batch.
 */
async function prepare(
  log: PostgresEvtLog,
  type: string,
  persists: number,
  singleEvents = false,
  allExisting = false,
): Promise<Planned[]> {
  const planned: Planned[] = [];
  for (let i = 0; i < persists; i++) {
    const id = `e-${i}`;
    const existing = allExisting || i % 3 === 0;
    if (existing) await log.persist(type, id, 0, [evt(`${id}/1`), evt(`${id}/2`)]);
    const last = existing ? 2 : 0;
    const conflicts = i % 7 === 0;
    const expected = conflicts ? (existing ? 1 : 3) : last;
    const count = i % 5 === 0 && !singleEvents && !allExisting ? 3 : 1;
    const texts = Array.from(
      { length: count },
      (_, k) => `${id}/${expected + k + 1}${conflicts ? "-lost" : ""}`,
    );
    planned.push({ id, expected, texts, conflicts });
  }
  return planned;
}

/**
 * Writes `planned` in one batch and checks every outcome against what a by-type read returns. With
 * `fallback`, the batch statement must have refused the batch and the committer written it persist by persist.
 */
async function writeAndCheck(
  log: PostgresEvtLog,
  type: string,
  planned: readonly Planned[],
  fallback = false,
): Promise<void> {
  const before = log.stats;
  const results = await Promise.allSettled(
    planned.map((p) => log.persist(type, p.id, p.expected, p.texts.map(evt))),
  );
  expect(log.stats.fallbacks - before.fallbacks).toBe(fallback ? 1 : 0);
  expect(log.stats.batches - before.batches).toBe(fallback ? planned.length : 1);
  const read = new Map<string, { seqNo: number; position: number; text: string }[]>();
  for await (const record of log.evtsByType(type)) {
    const list = read.get(record.id) ?? [];
    list.push({ seqNo: record.seqNo, position: record.position, text: decoder.decode(record.bytes) });
    expect(record.metadata).toEqual({ headers: { text: decoder.decode(record.bytes) } });
    read.set(record.id, list);
  }
  planned.forEach((p, i) => {
    const result = results[i]!;
    const events = read.get(p.id) ?? [];
    if (p.conflicts) {
      expect(result.status).toBe("rejected");
      expect((result as PromiseRejectedResult).reason).toBeInstanceOf(SeqNoConflictError);
      expect(events.map((e) => e.text)).not.toContain(p.texts[0]);
      return;
    }
    expect(result.status).toBe("fulfilled");
    const persisted = (result as PromiseFulfilledResult<Persisted>).value;
    const last = events.at(-1)!;
    expect(events.slice(-p.texts.length).map((e) => e.text)).toEqual(p.texts);
    expect(persisted).toEqual({ seqNo: last.seqNo, position: last.position });
    expect(persisted.seqNo).toBe(p.expected + p.texts.length);
  });
}

describe("PostgresEvtLog batch results: each persist's last position", () => {
  const { log, schema } = logPerSuite("batch_positions");

  it("are the positions of the persists' last events in a batch mixing creations, conflicts and several events (prepared)", async () => {
    await writeAndCheck(log(), "small", await prepare(log(), "small", 40));
  });

  it("are right in a batch large enough to be planned with its real sizes", async () => {
    await writeAndCheck(log(), "large", await prepare(log(), "large", 300));
  });

  it("are right in batches whose persists have one event each (the single-events statement), prepared and not", async () => {
    await writeAndCheck(log(), "singles", await prepare(log(), "singles", 40, true));
    await writeAndCheck(log(), "singles-large", await prepare(log(), "singles-large", 300, true));
  });

  it("are right in batches that only advance existing entities (the advances statement), prepared and not", async () => {
    await writeAndCheck(log(), "advances", await prepare(log(), "advances", 40, true, true));
    await writeAndCheck(log(), "advances-large", await prepare(log(), "advances-large", 300, true, true));
  });

  it("are right when the batch's positions are not one gap-free range (someone drew from the sequence without the lock)", async () => {
    const pool = await testPool(1);
    try {
      // Every position drawn skips one, so the positions cannot be computed from the last one: the statement
      // must refuse the batch (nothing written) and each persist, written alone, gets its own last position.
      await pool.query(`ALTER TABLE "${schema}".events ALTER COLUMN position SET INCREMENT BY 2`);
      await writeAndCheck(log(), "gaps", await prepare(log(), "gaps", 40), true);
      await writeAndCheck(log(), "gaps-large", await prepare(log(), "gaps-large", 300), true);
      await writeAndCheck(log(), "gaps-singles", await prepare(log(), "gaps-singles", 40, true), true);
    } finally {
      await pool.query(`ALTER TABLE "${schema}".events ALTER COLUMN position SET INCREMENT BY 1`);
      await pool.end();
    }
  });
});
