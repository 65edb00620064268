import {
  DecodeError,
  decodeEvts,
  defineEntity,
  Entity,
  emitAndReply,
  InvalidArgumentError,
  jsonBinarizer,
  jsonToBytes,
  jsonUpcaster,
  reply,
  upcastingBinarizer,
} from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";

// An account whose events changed twice:
//   v1 (content type "application/json"):       { type: "moved", n }            (n > 0 in, n < 0 out)
//                                                { type: "audited" }             (dropped in v2)
//   v2 ("application/json; v=2"):                { type: "deposited" | "withdrawn", amt }
//   v3 ("application/json; v=3", current):       { type: "deposited" | "withdrawn", amount }
//                                                a v2 "withdrawn" with a fee is split into withdrawn + fee

type AccountEvt =
  | { readonly type: "deposited"; readonly amount: number }
  | { readonly type: "withdrawn"; readonly amount: number }
  | { readonly type: "feeCharged"; readonly amount: number };

const V1 = "application/json";
const V2 = "application/json; v=2";
const V3 = "application/json; v=3";

const upcasters = [
  jsonUpcaster<{ type: string; n?: number }>(V1, V2, (old) =>
    old.type === "audited"
      ? []
      : [{ type: (old.n ?? 0) >= 0 ? "deposited" : "withdrawn", amt: Math.abs(old.n ?? 0) }],
  ),
  jsonUpcaster<{ type: string; amt: number; fee?: number }>(V2, V3, (old) =>
    old.fee === undefined
      ? [{ type: old.type, amount: old.amt }]
      : [
          { type: old.type, amount: old.amt },
          { type: "feeCharged", amount: old.fee },
        ],
  ),
];

const binarizer = upcastingBinarizer(jsonBinarizer<AccountEvt, number>({ contentType: V3 }), upcasters);

type AccountCmd = { readonly type: "deposit"; readonly amount: number } | { readonly type: "balance" };

function foldAccount(state: number, evt: AccountEvt): number {
  return evt.type === "deposited" ? state + evt.amount : state - evt.amount;
}

function accountWith(handleEvt: (state: number, evt: AccountEvt, seqNo: number) => number) {
  return defineEntity<number, AccountCmd, AccountEvt, number, never>({
    typeName: "account",
    initialState: () => 0,
    handleCmd: (state, cmd) =>
      cmd.type === "balance"
        ? reply(state)
        : emitAndReply<number, AccountEvt, number>([{ type: "deposited", amount: cmd.amount }], (s) => s),
    handleEvt,
  });
}

const account = accountWith(foldAccount);

/** A log holding the given old events of account "a", one persist each. */
async function logWith(evts: readonly { readonly contentType: string; readonly evt: unknown }[]) {
  const evtLog = new InMemoryEvtLog();
  for (const [i, { contentType, evt }] of evts.entries()) {
    await evtLog.persist("account", "a", i, [{ bytes: jsonToBytes(evt), contentType }]);
  }
  return evtLog;
}

describe("Upcasting old events", () => {
  it("renames a field, drops an event and splits one into two through a chain of upcasters", async () => {
    const evtLog = await logWith([
      { contentType: V1, evt: { type: "moved", n: 100 } },
      { contentType: V1, evt: { type: "audited" } },
      { contentType: V1, evt: { type: "moved", n: -30 } },
      { contentType: V2, evt: { type: "withdrawn", amt: 20, fee: 1 } },
      { contentType: V3, evt: { type: "deposited", amount: 5 } },
    ]);
    const ref = await Entity.spawn("a", account, { evtLog, binarizer });
    // 100 - 30 - (20 + 1) + 5; the entity's seqNo is the log's, however many events the records became.
    expect(await ref.handleCmd({ type: "balance" })).toMatchObject({ reply: 54, seqNo: 5 });
    expect(await ref.handleCmd({ type: "deposit", amount: 1 })).toMatchObject({ seqNo: 6 });
    const last = [];
    for await (const r of evtLog.evtsById("account", "a", { from: 6 })) last.push(r.contentType);
    expect(last).toEqual([V3]);
  });

  it("folds every event an old record becomes at that record's seqNo", async () => {
    const evtLog = await logWith([
      { contentType: V2, evt: { type: "deposited", amt: 10 } },
      { contentType: V2, evt: { type: "withdrawn", amt: 3, fee: 2 } },
    ]);
    const seen: [string, number][] = [];
    const tracing = accountWith((state, evt, seqNo) => {
      seen.push([evt.type, seqNo]);
      return foldAccount(state, evt);
    });
    await Entity.spawn("a", tracing, { evtLog, binarizer });
    expect(seen).toEqual([
      ["deposited", 1],
      ["withdrawn", 2],
      ["feeCharged", 2],
    ]);
  });

  it("lets projections decode what entities see with decodeEvts", async () => {
    const evtLog = await logWith([
      { contentType: V1, evt: { type: "audited" } },
      { contentType: V2, evt: { type: "withdrawn", amt: 3, fee: 2 } },
    ]);
    const decoded = [];
    for await (const record of evtLog.evtsByType("account")) {
      decoded.push({ seqNo: record.seqNo, evts: decodeEvts(binarizer, record) });
    }
    expect(decoded).toEqual([
      { seqNo: 1, evts: [] },
      {
        seqNo: 2,
        evts: [
          { type: "withdrawn", amount: 3 },
          { type: "feeCharged", amount: 2 },
        ],
      },
    ]);
    expect(decodeEvts(jsonBinarizer<AccountEvt, number>(), { bytes: jsonToBytes({ type: "x" }) })).toEqual([
      { type: "x" },
    ]);
  });

  it("fails recovery with a DecodeError naming the seqNo for a content type no upcaster reads", async () => {
    const evtLog = await logWith([
      { contentType: V3, evt: { type: "deposited", amount: 1 } },
      { contentType: "application/json; v=4", evt: { type: "deposited", amount: 1 } },
    ]);
    const error = await Entity.spawn("a", account, { evtLog, binarizer }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect(error).toMatchObject({ what: "event", seqNo: 2 });
    expect((error as Error).message).toContain("v=4");
  });

  it("refuses upcasters that do not chain to the current content type", () => {
    const current = jsonBinarizer<AccountEvt, number>({ contentType: V3 });
    const noop = (from: string, to: string) => jsonUpcaster(from, to, (old) => [old]);
    for (const chain of [
      [noop(V1, V2)], // nothing reads v2
      [noop(V1, V2), noop(V2, V1)], // a loop
      [noop(V1, V3), noop(V1, V2)], // two read v1
      [noop(V3, V1)], // upcasts the current type
    ]) {
      expect(() => upcastingBinarizer(current, chain)).toThrow(InvalidArgumentError);
    }
  });

  it("evtFromBytes of the wrapper refuses a record that became several events", () => {
    expect(() => binarizer.evtFromBytes(jsonToBytes({ type: "withdrawn", amt: 1, fee: 1 }), V2)).toThrow(
      /evtsFromBytes/,
    );
    expect(binarizer.evtFromBytes(jsonToBytes({ type: "moved", n: 4 }), V1)).toEqual({
      type: "deposited",
      amount: 4,
    });
  });
});
