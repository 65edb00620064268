import {
  defineEntity,
  type EvtsDeleted,
  emitAndReply,
  type NewEvt,
  type PacerClock,
  reply,
} from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";

// Shared by the deletion pacing tests (ADR 0115).

const EVT: NewEvt = { bytes: new TextEncoder().encode("{}"), contentType: "application/json" };

/** An in-memory log that records every deletion call: how far it was asked to go and what it removed. */
export class RecordingLog extends InMemoryEvtLog {
  readonly calls: { readonly from: number; readonly to: number; readonly removed: number }[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Runs after each deletion call (e.g. to advance a fake clock, or abort). */
  afterCall: () => void = () => {};

  override async deleteEvts(type: string, id: string, toSeqNo: number): Promise<EvtsDeleted> {
    const from = await this.deletedTo(type, id);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    try {
      // A turn of the event loop, so that calls that could overlap do.
      await new Promise(setImmediate);
      const done = await super.deleteEvts(type, id, toSeqNo);
      this.calls.push({ from, to: toSeqNo, removed: done.removed });
      this.afterCall();
      return done;
    } finally {
      this.inFlight--;
    }
  }
}

/** Time that passes only when the pacer sleeps (or a test advances it); records every sleep. */
export class FakeClock implements PacerClock {
  time = 0;
  readonly sleeps: number[] = [];
  now(): number {
    return this.time;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
  }
}

export async function fill(log: InMemoryEvtLog, id: string, count: number): Promise<void> {
  for (let seqNo = 0; seqNo < count; seqNo += 500) {
    await log.persist(
      "thing",
      id,
      seqNo,
      Array.from({ length: Math.min(500, count - seqNo) }, () => EVT),
    );
  }
}

export async function stateOf(log: InMemoryEvtLog, id: string) {
  const seqNos: number[] = [];
  for await (const r of log.evtsById("thing", id, { from: 1 })) seqNos.push(r.seqNo);
  return { last: await log.lastSeqNo("thing", id), deletedTo: await log.deletedTo("thing", id), seqNos };
}

/** A document whose "shred" command emits a tombstone. */
type Doc = { readonly lines: number };
type DocCmd = { readonly type: "write"; readonly lines: number } | { readonly type: "shred" };
export type DocEvt = { readonly type: "line" } | { readonly type: "shredded" };

export const doc = defineEntity<Doc, DocCmd, DocEvt, number>({
  typeName: "thing",
  initialState: () => ({ lines: 0 }),
  handleCmd: (state, cmd) => {
    const evts: DocEvt[] =
      cmd.type === "write"
        ? Array.from({ length: cmd.lines }, () => ({ type: "line" }))
        : [{ type: "shredded" }];
    const [first, ...rest] = evts;
    return first === undefined
      ? reply(state.lines)
      : emitAndReply<Doc, DocEvt, number>([first, ...rest], (s) => s.lines);
  },
  handleEvt: (state, evt) => (evt.type === "line" ? { lines: state.lines + 1 } : { lines: 0 }),
});
