import {
  type Binarizer,
  defineEntity,
  EncodeError,
  Entity,
  ErrorCode,
  EvtHandlerError,
  emit,
  isEventSourcedError,
  jsonBinarizer,
  reply,
} from "@eventsourced/core";
import { FaultyEvtLog, InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";

type Evt = { readonly type: "added"; readonly n: number };

/** Adds numbers; handleEvt refuses to fold 13, like a fold with a bug that only some events reach. */
const picky = defineEntity({
  typeName: "picky",
  initialState: () => 0,
  handleCmd: (state: number, cmd: { readonly add?: readonly number[]; readonly get?: true }) =>
    cmd.add === undefined
      ? reply(state)
      : emit(...(cmd.add.map((n) => ({ type: "added", n }) as Evt) as [Evt, ...Evt[]])),
  handleEvt: (state: number, evt: Evt) => {
    if (evt.n === 13) throw new RangeError("13 does not fold");
    return state + evt.n;
  },
});

describe("Events are folded and encoded before they are persisted", () => {
  it("handleEvt throwing on a new event persists nothing, rejects with EvtHandlerError, and the entity serves on", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await Entity.spawn("p1", picky, { evtLog });
    await ref.handleCmd({ add: [1] });

    const error = await ref.handleCmd({ add: [2, 13, 4] }).catch((e: unknown) => e);
    expect(isEventSourcedError(error, ErrorCode.EvtHandler)).toBe(true);
    expect(error).toBeInstanceOf(EvtHandlerError);
    const typed = error as EvtHandlerError;
    expect(typed).toMatchObject({ type: "picky", id: "p1", seqNo: 3 });
    expect(typed.cause).toBeInstanceOf(RangeError);
    expect(typed.message).toContain("13 does not fold");

    // Nothing reached the log, the state is unchanged, and the entity keeps serving.
    expect(evtLog.counts.persist).toBe(1);
    expect(await evtLog.inner.lastSeqNo("picky", "p1")).toBe(1);
    expect(ref.status).toBe("running");
    expect(await ref.handleCmd({ get: true })).toMatchObject({ reply: 1, seqNo: 1 });
    expect(await ref.handleCmd({ add: [5] })).toMatchObject({ kind: "accepted", seqNo: 2 });
    await ref.stop();

    // And it can be spawned again: the log holds only events that fold.
    const again = await Entity.spawn("p1", picky, { evtLog });
    expect(await again.handleCmd({ get: true })).toMatchObject({ reply: 6, seqNo: 2 });
    await again.stop();
  });

  it("a binarizer that throws on an event persists nothing and rejects with EncodeError naming the event", async () => {
    const json = jsonBinarizer<Evt, number>();
    const fussy: Binarizer<Evt, number> = {
      ...json,
      evtToBytes: (evt) => {
        if (evt.n < 0) throw new TypeError("negative numbers have no encoding");
        return json.evtToBytes(evt);
      },
    };
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const ref = await Entity.spawn("p2", picky, { evtLog, binarizer: fussy });

    const error = await ref.handleCmd({ add: [1, -1] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EncodeError);
    expect(error).toMatchObject({ code: "ENCODE_FAILED", type: "picky", id: "p2", index: 1 });
    expect((error as EncodeError).cause).toBeInstanceOf(TypeError);
    expect(evtLog.counts.persist).toBe(0);
    expect(ref.status).toBe("running");
    expect(await ref.handleCmd({ add: [3] })).toMatchObject({ kind: "accepted", reply: undefined, seqNo: 1 });
    await ref.stop();
  });

  it("a reply function that throws fails the command before anything is persisted", async () => {
    const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
    const brittle = defineEntity({
      typeName: "brittle",
      initialState: () => 0,
      handleCmd: (_state: number, _cmd: "go") => ({
        kind: "emit" as const,
        evts: [{ type: "added", n: 1 } as Evt],
        reply: (): number => {
          throw new Error("reply failed");
        },
      }),
      handleEvt: (state: number, evt: Evt) => state + evt.n,
    });
    const ref = await Entity.spawn("b", brittle, { evtLog });
    await expect(ref.handleCmd("go")).rejects.toThrow("reply failed");
    expect(evtLog.counts.persist).toBe(0);
    expect(ref.seqNo).toBe(0);
    await ref.stop();
  });
});
