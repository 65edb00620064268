import { defineEntity, type EvtLog, emitAndReply, jsonFromBytes } from "@eventsourced/core";

/** A command of the appender: `parts` events tagged `tag` (so a multi-event command is checkable). */
export interface AppendCmd {
  readonly tag: string;
  readonly parts?: number;
}

/** An event of the appender. */
export interface Appended {
  readonly tag: string;
  readonly part: number;
}

/** An entity that appends tagged events and replies with its event count: the log says what was handled. */
export const appender = defineEntity<number, AppendCmd, Appended, number, never>({
  typeName: "appender",
  initialState: () => 0,
  handleCmd: (_state, cmd) => {
    const parts = cmd.parts ?? 1;
    const evts = Array.from({ length: parts }, (_, part) => ({ tag: cmd.tag, part }));
    return emitAndReply(evts as [Appended, ...Appended[]], (count) => count);
  },
  handleEvt: (count) => count + 1,
});

/** The appender's events of `id` as stored, with their seqNos. */
export async function appended(log: EvtLog, id: string): Promise<(Appended & { seqNo: number })[]> {
  const out: (Appended & { seqNo: number })[] = [];
  for await (const record of log.evtsById("appender", id, { from: 1 })) {
    out.push({ ...jsonFromBytes<Appended>(record.bytes), seqNo: record.seqNo });
  }
  return out;
}

/** A small seeded PRNG (mulberry32): random timing that a failing run can reproduce from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
