import { type Binarizer, jsonBinarizer, protobufBinarizer } from "@eventsourced/core";
import { CounterEvt, CounterState, protobufPackage } from "./generated/counter.js";

/** How counter events and snapshots are encoded. */
export type CounterBinarizerKind = "protobuf" | "json";

/**
 * The counter's binarizer: protobuf (the default, messages from `proto/counter.proto`) or JSON
 * (bigint-safe, easier to read in `psql`). Events written with one cannot be read with the other, so keep
 * the choice per store.
 */
export function counterBinarizer(
  kind: CounterBinarizerKind = "protobuf",
): Binarizer<CounterEvt, CounterState> {
  return kind === "json"
    ? jsonBinarizer<CounterEvt, CounterState>()
    : protobufBinarizer({
        evt: CounterEvt,
        state: CounterState,
        evtTypeName: `${protobufPackage}.CounterEvt`,
      });
}

/**
 * The default (protobuf) binarizer as a value, for tools that import one by name: the admin CLI decodes the
 * counter's events with `--binarizer ./examples/counter/dist/counter-binarizer.js#binarizer`.
 */
export const binarizer: Binarizer<CounterEvt, CounterState> = counterBinarizer("protobuf");
