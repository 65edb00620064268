import { describe, expect, it } from "vitest";
import { ErrorCode, isEventSourcedError, SeqNoConflictError } from "../../errors/index.js";
import type { EvtLog } from "../../evt-log.js";
import { type EvtLogRetention, supportsRetention } from "../../evt-log-retention.js";
import { uniqueTypeName } from "../test-ids.js";
import { collect, evt, text } from "./evt-log-contract-support.js";

/** Persists `count` events one persist each (so one event per message on logs that group by persist). */
async function persistEach(log: EvtLog, type: string, id: string, count: number, from = 0): Promise<void> {
  for (let i = from; i < from + count; i++) await log.persist(type, id, i, [evt(`${id}/${i + 1}`)]);
}

/**
 * The retention part of the EvtLog contract (`EvtLogRetention`), run by `describeEvtLogContract` unless
 * the adapter opts out. `getLog` returns the subject once the suite's `beforeAll` has made it.
 */
export function describeEvtLogRetentionCases(getLog: () => EvtLog): void {
  describe("retention (EvtLogRetention)", () => {
    const log = (): EvtLog & EvtLogRetention => {
      const subject = getLog();
      if (!supportsRetention(subject)) {
        throw new Error(
          "this log does not implement EvtLogRetention (deleteEvts, deletedTo, resetEntity); pass { retention: false } to describeEvtLogContract",
        );
      }
      return subject;
    };

    it("returns events by id with the position evtsByType reports", async () => {
      const type = uniqueTypeName();
      await log().persist(type, "p", 0, [evt("a"), evt("b")]);
      await log().persist(type, "q", 0, [evt("c")]);
      await log().persist(type, "p", 2, [evt("d")]);
      const byType = await collect(log().evtsByType(type));
      const byId = await collect(log().evtsById(type, "p", { from: 1 }));
      expect(byId.map((r) => r.position)).toEqual(byType.filter((r) => r.id === "p").map((r) => r.position));
    });

    it("deletes a prefix of an entity's events: the rest stays readable, lastSeqNo and deletedTo say where it is", async () => {
      const type = uniqueTypeName();
      await persistEach(log(), type, "e", 5);
      expect(await log().deletedTo(type, "e")).toBe(0);
      const result = await log().deleteEvts(type, "e", 3);
      expect(result.deletedTo).toBe(3);
      expect(result.removed).toBeGreaterThan(0);
      expect(await log().deletedTo(type, "e")).toBe(3);
      expect(await log().lastSeqNo(type, "e")).toBe(5);
      expect((await collect(log().evtsById(type, "e", { from: 1 }))).map(text)).toEqual(["e/4", "e/5"]);
      expect((await collect(log().evtsById(type, "e", { from: 5 }))).map(text)).toEqual(["e/5"]);
      expect((await collect(log().evtsByType(type))).map(text)).toEqual(["e/4", "e/5"]);
    });

    it("full delete, then persist expecting the old last seqNo succeeds and expecting 0 conflicts (never rewinds)", async () => {
      const type = uniqueTypeName();
      await persistEach(log(), type, "gone", 3);
      const result = await log().deleteEvts(type, "gone", 3);
      // A log may keep the last event (NATS keeps the entity's last message), never more than that.
      expect(result.deletedTo).toBeGreaterThanOrEqual(2);
      expect(result.deletedTo).toBeLessThanOrEqual(3);
      expect(await log().lastSeqNo(type, "gone")).toBe(3);
      await expect(log().persist(type, "gone", 0, [evt("again")])).rejects.toBeInstanceOf(SeqNoConflictError);
      expect((await log().persist(type, "gone", 3, [evt("gone/4")])).seqNo).toBe(4);
      expect(await log().lastSeqNo(type, "gone")).toBe(4);
      const rest = await collect(log().evtsById(type, "gone", { from: 1 }));
      expect(rest.at(-1)?.seqNo).toBe(4);
      expect(rest.map((r) => r.seqNo)).toEqual(rest.map((_, i) => result.deletedTo + 1 + i));
    });

    it("never deletes past the last seqNo, however far it is asked to", async () => {
      const type = uniqueTypeName();
      await persistEach(log(), type, "far", 2);
      const result = await log().deleteEvts(type, "far", 1_000);
      expect(result.deletedTo).toBeLessThanOrEqual(2);
      expect(await log().lastSeqNo(type, "far")).toBe(2);
      expect((await log().persist(type, "far", 2, [evt("far/3")])).seqNo).toBe(3);
    });

    it("deletes nothing for an unknown entity and nothing twice: repeated and concurrent deletes agree", async () => {
      const type = uniqueTypeName();
      expect(await log().deleteEvts(type, "nobody", 5)).toEqual({ deletedTo: 0, removed: 0 });
      expect(await log().deletedTo(type, "nobody")).toBe(0);
      await persistEach(log(), type, "twice", 6);
      const results = await Promise.all([
        log().deleteEvts(type, "twice", 4),
        log().deleteEvts(type, "twice", 4),
      ]);
      expect(results.map((r) => r.deletedTo)).toEqual([4, 4]);
      expect(await log().deleteEvts(type, "twice", 4)).toEqual({ deletedTo: 4, removed: 0 });
      expect(await log().deleteEvts(type, "twice", 2)).toEqual({ deletedTo: 4, removed: 0 });
      expect((await collect(log().evtsById(type, "twice", { from: 1 }))).map((r) => r.seqNo)).toEqual([5, 6]);
    });

    it("deletes within a multi-event persist no further than asked, keeping the rest contiguous", async () => {
      const type = uniqueTypeName();
      await log().persist(type, "multi", 0, [evt("1"), evt("2"), evt("3")]);
      await log().persist(type, "multi", 3, [evt("4"), evt("5")]);
      const result = await log().deleteEvts(type, "multi", 4);
      expect(result.deletedTo).toBeLessThanOrEqual(4);
      const rest = await collect(log().evtsById(type, "multi", { from: 1 }));
      expect(rest.map((r) => r.seqNo)).toEqual(rest.map((_, i) => result.deletedTo + 1 + i));
      expect(rest.at(-1)?.seqNo).toBe(5);
    });

    it("keeps the positions of the remaining events and the by-type order", async () => {
      const type = uniqueTypeName();
      await persistEach(log(), type, "a", 3);
      await persistEach(log(), type, "b", 2);
      const before = await collect(log().evtsByType(type));
      await log().deleteEvts(type, "a", 2);
      const after = await collect(log().evtsByType(type));
      expect(after.map((r) => [r.id, r.seqNo, r.position])).toEqual(
        before.filter((r) => r.id !== "a" || r.seqNo > 2).map((r) => [r.id, r.seqNo, r.position]),
      );
    });

    it("deletes while the entity keeps persisting: its history after the deleted prefix stays contiguous", async () => {
      const type = uniqueTypeName();
      await persistEach(log(), type, "busy", 10);
      const writing = persistEach(log(), type, "busy", 20, 10);
      for (let to = 2; to <= 10; to += 2) await log().deleteEvts(type, "busy", to);
      await writing;
      const rest = await collect(log().evtsById(type, "busy", { from: 1 }));
      expect(rest.map((r) => r.seqNo)).toEqual(Array.from({ length: 20 }, (_, i) => i + 11));
      expect(await log().lastSeqNo(type, "busy")).toBe(30);
    });

    it("resetEntity deletes the entity with its head, so that its seqNos start over at 1", async () => {
      const type = uniqueTypeName();
      await persistEach(log(), type, "reset", 4);
      await log().deleteEvts(type, "reset", 4);
      await log().resetEntity(type, "reset", 4);
      expect(await log().lastSeqNo(type, "reset")).toBe(0);
      expect(await log().deletedTo(type, "reset")).toBe(0);
      expect(await collect(log().evtsById(type, "reset", { from: 1 }))).toEqual([]);
      expect((await log().persist(type, "reset", 0, [evt("new/1")])).seqNo).toBe(1);
    });

    it("resetEntity with a stale expected seqNo conflicts and deletes nothing", async () => {
      const type = uniqueTypeName();
      await persistEach(log(), type, "stale", 3);
      await expect(log().resetEntity(type, "stale", 2)).rejects.toBeInstanceOf(SeqNoConflictError);
      expect(await log().lastSeqNo(type, "stale")).toBe(3);
      expect(await collect(log().evtsById(type, "stale", { from: 1 }))).toHaveLength(3);
    });

    it("refuses an invalid id or seqNo with InvalidArgumentError", async () => {
      const type = uniqueTypeName();
      const calls: (() => Promise<unknown>)[] = [
        () => log().deleteEvts(type, "", 1),
        () => log().deleteEvts(type, "x", -1),
        () => log().deleteEvts(type, "x", 1.5),
        () => log().deletedTo("bad.type", "x"),
        () => log().resetEntity(type, "nul\u0000", 1),
      ];
      for (const call of calls) {
        const error = await Promise.resolve()
          .then(call)
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(isEventSourcedError(error, ErrorCode.InvalidArgument)).toBe(true);
      }
    });
  });
}
