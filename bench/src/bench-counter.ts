import {
  type Decision,
  defineEntity,
  Entity,
  type EvtLog,
  emit,
  emitAndReply,
  reject,
  silentLogger,
} from "@eventsourced/core";
import { type ClosedLoopOptions, closedLoop, type Measured } from "./closed-loop.js";

/** The entity the adapter suites drive: a counter whose every command emits one small JSON event. */
export type CounterCmd = { readonly inc: number };
export type CounterEvt = { readonly type: "Increased"; readonly by: number };

export const counter = defineEntity<number, CounterCmd, CounterEvt>({
  typeName: "counter",
  initialState: () => 0,
  handleCmd: (_state, cmd) => emit<CounterEvt>({ type: "Increased", by: cmd.inc }),
  handleEvt: (state, evt) => state + evt.by,
});

/** The JSON of one event, as the raw baselines write it. */
export const EVT_JSON: string = JSON.stringify({ type: "Increased", by: 1 });

/**
 * Spawns counters `<prefix>0` ... on `evtLog` (counter `i` on `logOf(i)` when given), one per worker, and
 * drives them through {@link closedLoop}.
 */
export async function driveCounters(
  evtLog: EvtLog,
  loop: ClosedLoopOptions,
  idPrefix = "c-",
  logOf: (entity: number) => EvtLog = () => evtLog,
): Promise<Measured> {
  const spawn = (i: number) =>
    Entity.spawn(`${idPrefix}${i}`, counter, { evtLog: logOf(i), logger: silentLogger });
  const refs = await Promise.all(Array.from({ length: loop.workers }, (_, i) => spawn(i)));
  try {
    return await closedLoop(loop, (entity) => refs[entity]!.handleCmd({ inc: 1 }));
  } finally {
    await Promise.all(refs.map((ref) => ref.stop()));
  }
}

/** Events per second of spawning counter `id`, which recovers it from `evtLog` (read, decode, fold). */
export async function replayCounter(evtLog: EvtLog, id: string, expectedEvts: number): Promise<number> {
  const started = performance.now();
  const ref = await Entity.spawn(id, counter, { evtLog, logger: silentLogger });
  const seconds = (performance.now() - started) / 1000;
  const replayed = ref.seqNo;
  await ref.stop();
  if (replayed !== expectedEvts) throw new Error(`replayed ${replayed} events, expected ${expectedEvts}`);
  return expectedEvts / seconds;
}

/** The command and event of {@link benchCounter}. */
export type IncCmd = { readonly inc: number };
export type IncEvt = { readonly by: number };

/** {@link benchCounter}'s `handleCmd`: one event, the new total as the reply (the core baseline calls it too). */
export function decideInc(state: number, cmd: IncCmd): Decision<number, IncEvt, number, "overflow"> {
  return state + cmd.inc > Number.MAX_SAFE_INTEGER
    ? reject("overflow")
    : emitAndReply<number, IncEvt, number>([{ by: cmd.inc }], (s) => s);
}

/** {@link benchCounter}'s `handleEvt`. */
export function foldInc(state: number, evt: IncEvt): number {
  return state + evt.by;
}

/** The entity the in-memory suites (core, registry) drive: a counter replying with its total. */
export const benchCounter = defineEntity<number, IncCmd, IncEvt, number, "overflow">({
  typeName: "benchCounter",
  initialState: () => 0,
  handleCmd: decideInc,
  handleEvt: foldInc,
});
