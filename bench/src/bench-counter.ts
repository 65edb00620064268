import { defineEntity, emit } from "@eventsourced/core";

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
