import {
  type Decision,
  defineEntity,
  type EvtLog,
  emitAndReply,
  jsonFromBytes,
  jsonToBytes,
  type Logger,
  type NewEvt,
  reject,
  reply,
} from "@eventsourced/core";

/** Commands of the test counter. */
export type CounterCmd =
  | { readonly type: "inc"; readonly by: number }
  | { readonly type: "dec"; readonly by: number }
  /** Emits one `increased` event per element: a multi-event command. */
  | { readonly type: "incMany"; readonly bys: readonly [number, ...number[]] }
  | { readonly type: "get" }
  | { readonly type: "boom" };

/** Events of the test counter. */
export type CounterEvt =
  | { readonly type: "increased"; readonly by: number }
  | { readonly type: "decreased"; readonly by: number };

export type CounterRejection = "overflow" | "underflow";

export const MAX = 1_000_000;

export function decideCounter(
  state: number,
  cmd: CounterCmd,
): Decision<number, CounterEvt, number, CounterRejection> {
  switch (cmd.type) {
    case "inc":
      return state + cmd.by > MAX
        ? reject("overflow")
        : emitAndReply<number, CounterEvt, number>([{ type: "increased", by: cmd.by }], (s) => s);
    case "dec":
      return state - cmd.by < 0
        ? reject("underflow")
        : emitAndReply<number, CounterEvt, number>([{ type: "decreased", by: cmd.by }], (s) => s);
    case "incMany": {
      const [first, ...rest] = cmd.bys;
      return emitAndReply<number, CounterEvt, number>(
        [{ type: "increased", by: first }, ...rest.map((by) => ({ type: "increased", by }) as const)],
        (s) => s,
      );
    }
    case "get":
      return reply(state);
    case "boom":
      throw new Error("boom: handleCmd failed");
  }
}

export function foldCounter(state: number, evt: CounterEvt): number {
  return evt.type === "increased" ? state + evt.by : state - evt.by;
}

/** A counter whose value is the sum of `increased` minus the sum of `decreased`; `inc` past MAX is rejected. */
export const counter = defineEntity<number, CounterCmd, CounterEvt, number, CounterRejection>({
  typeName: "counter",
  initialState: () => 0,
  handleCmd: decideCounter,
  handleEvt: foldCounter,
});

export const inc = (by: number): CounterCmd => ({ type: "inc", by });
export const dec = (by: number): CounterCmd => ({ type: "dec", by });

/** An `increased` event as another writer would append it. */
export function foreignIncreased(by: number): NewEvt {
  return { bytes: jsonToBytes({ type: "increased", by }), contentType: "application/json" };
}

/** Every event of the entity, decoded. */
export async function logOf(
  log: EvtLog,
  id: string,
  type = "counter",
): Promise<{ seqNo: number; evt: CounterEvt }[]> {
  const out: { seqNo: number; evt: CounterEvt }[] = [];
  for await (const record of log.evtsById(type, id, { from: 1 })) {
    out.push({ seqNo: record.seqNo, evt: jsonFromBytes<CounterEvt>(record.bytes) });
  }
  return out;
}

/** The counter value the log implies. */
export async function foldedLog(log: EvtLog, id: string): Promise<number> {
  return (await logOf(log, id)).reduce((state, { evt }) => foldCounter(state, evt), 0);
}

/** A logger that records lines for assertions instead of printing them. */
export class RecordingLogger implements Logger {
  readonly lines: { level: "debug" | "warn" | "error"; message: string; fields?: unknown }[] = [];
  debug(message: string, fields?: unknown): void {
    this.lines.push({ level: "debug", message, fields });
  }
  warn(message: string, fields?: unknown): void {
    this.lines.push({ level: "warn", message, fields });
  }
  error(message: string, fields?: unknown): void {
    this.lines.push({ level: "error", message, fields });
  }
}

/** Lets pending promise callbacks and I/O callbacks run. */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Awaits `condition` by polling between event-loop turns (never a timed assertion: it waits as long as needed). */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await settle();
}
