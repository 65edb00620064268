import { expect, it } from "vitest";
import type { EvtLog, TypedEvtRecord } from "../../evt-log.js";
import { uniqueTypeName } from "../test-ids.js";
import { collect, evt, text, waitFor } from "./evt-log-contract-support.js";

/**
 * The by-type read cases of the EvtLog contract: position order, resuming, and live tails.
 * Registered by `describeEvtLogContract` inside its suite; `log` returns the subject once the suite's
 * `beforeAll` has made it.
 */
export function describeEvtLogByTypeCases(log: () => EvtLog): void {
  it("reads all events of a type in position order, each with its id and seqNo", async () => {
    const type = uniqueTypeName();
    await log().persist(type, "x", 0, [evt("x1"), evt("x2")]);
    await log().persist(type, "y", 0, [evt("y1")]);
    await log().persist(type, "x", 2, [evt("x3")]);
    const records = await collect(log().evtsByType(type));
    expect(records.map(text)).toEqual(["x1", "x2", "y1", "x3"]);
    expect(records.map((r) => [r.id, r.seqNo])).toEqual([
      ["x", 1],
      ["x", 2],
      ["y", 1],
      ["x", 3],
    ]);
    for (const r of records) expect(r.type).toBe(type);
    const positions = records.map((r) => r.position);
    expect([...positions].sort((p, q) => p - q)).toEqual(positions);
    expect(new Set(positions).size).toBe(positions.length);
  });

  it("resumes a by-type read after a given position", async () => {
    const type = uniqueTypeName();
    await log().persist(type, "x", 0, [evt("1"), evt("2"), evt("3")]);
    await log().persist(type, "y", 0, [evt("4")]);
    const all = await collect(log().evtsByType(type));
    const rest = await collect(log().evtsByType(type, { after: all[1]!.position }));
    expect(rest.map(text)).toEqual(["3", "4"]);
    expect(await collect(log().evtsByType(type, { after: all[3]!.position }))).toEqual([]);
  });

  it("tails live by type: delivers stored events, then new ones as they are persisted, until aborted", async () => {
    const type = uniqueTypeName();
    await log().persist(type, "x", 0, [evt("stored")]);
    const controller = new AbortController();
    const seen: TypedEvtRecord[] = [];
    const reader = (async () => {
      for await (const record of log().evtsByType(type, { live: true, signal: controller.signal })) {
        seen.push(record);
        if (seen.length === 4) controller.abort();
      }
    })();
    await waitFor(() => seen.length >= 1);
    await log().persist(type, "x", 1, [evt("live1")]);
    await log().persist(type, "y", 0, [evt("live2"), evt("live3")]);
    await reader;
    expect(seen.map(text)).toEqual(["stored", "live1", "live2", "live3"]);
    const positions = seen.map((r) => r.position);
    expect([...positions].sort((p, q) => p - q)).toEqual(positions);
  });

  it("ends a live by-type read that is waiting for events when its signal aborts", async () => {
    const type = uniqueTypeName();
    const controller = new AbortController();
    const reader = collect(log().evtsByType(type, { live: true, signal: controller.signal }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(await reader).toEqual([]);
  });

  it("delivers every event exactly once to a live reader while many entities write concurrently", async () => {
    const type = uniqueTypeName();
    const controller = new AbortController();
    const total = 20 * 10;
    const seen: TypedEvtRecord[] = [];
    const reader = (async () => {
      for await (const record of log().evtsByType(type, { live: true, signal: controller.signal })) {
        seen.push(record);
        if (seen.length === total) controller.abort();
      }
    })();
    await Promise.all(
      Array.from({ length: 20 }, async (_, e) => {
        for (let i = 0; i < 10; i++) await log().persist(type, `w${e}`, i, [evt(`${e}/${i}`)]);
      }),
    );
    const timer = setTimeout(() => controller.abort(), 10_000);
    await reader;
    clearTimeout(timer);
    expect(seen).toHaveLength(total);
    expect(new Set(seen.map((r) => `${r.id}/${r.seqNo}`)).size).toBe(total);
    const positions = seen.map((r) => r.position);
    expect([...positions].sort((p, q) => p - q)).toEqual(positions);
    for (let e = 0; e < 20; e++) {
      expect(seen.filter((r) => r.id === `w${e}`).map((r) => r.seqNo)).toEqual([
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
      ]);
    }
  });
}
