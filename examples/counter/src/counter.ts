import { type Decision, defineEntity, emitAndReply, reject, reply } from "@eventsourced/core";
import type { CounterEvt, CounterState } from "./generated/counter.js";

/** The largest value a counter can hold: the counter has u64 semantics, like the Rust original. */
export const MAX_COUNTER_VALUE: bigint = 2n ** 64n - 1n;

/** The entity type name under which counters are stored. */
export const COUNTER_TYPE_NAME = "counter";

/** Increase the counter by `n` (a u64). */
export interface Inc {
  readonly kind: "inc";
  readonly n: bigint;
}

/** Decrease the counter by `n` (a u64). */
export interface Dec {
  readonly kind: "dec";
  readonly n: bigint;
}

/** Read the counter's value without changing it. */
export interface Get {
  readonly kind: "get";
}

/** The commands a counter handles. */
export type CounterCmd = Inc | Dec | Get;

/** `Inc` was rejected: `value + inc` would exceed {@link MAX_COUNTER_VALUE}. */
export interface Overflow {
  readonly kind: "overflow";
  readonly value: bigint;
  readonly inc: bigint;
}

/** `Dec` was rejected: `value - dec` would be negative. */
export interface Underflow {
  readonly kind: "underflow";
  readonly value: bigint;
  readonly dec: bigint;
}

/** Why a counter refused a command. */
export type CounterRejection = Overflow | Underflow;

/** Every command is answered with the counter's value after it. */
export type CounterReply = bigint;

/** Builds an `Inc` command. */
export const inc = (n: bigint | number): Inc => ({ kind: "inc", n: BigInt(n) });

/** Builds a `Dec` command. */
export const dec = (n: bigint | number): Dec => ({ kind: "dec", n: BigInt(n) });

/** Builds a `Get` command. */
export const get = (): Get => ({ kind: "get" });

function isU64(n: bigint): boolean {
  return n >= 0n && n <= MAX_COUNTER_VALUE;
}

type CounterDecision = Decision<CounterState, CounterEvt, CounterReply, CounterRejection>;

function handleCmd(state: CounterState, cmd: CounterCmd): CounterDecision {
  const value = state.value;
  switch (cmd.kind) {
    case "get":
      return reply(value);
    case "inc":
      // A command can come from anywhere; an amount outside u64 could not even be encoded as an event.
      if (!isU64(cmd.n)) throw new RangeError(`Inc amount must be a u64, got ${cmd.n}`);
      return value + cmd.n > MAX_COUNTER_VALUE
        ? reject({ kind: "overflow", value, inc: cmd.n })
        : emitAndReply<CounterState, CounterEvt, CounterReply>(
            [{ evt: { $case: "increased", value: { oldValue: value, inc: cmd.n } } }],
            (after) => after.value,
          );
    case "dec":
      if (!isU64(cmd.n)) throw new RangeError(`Dec amount must be a u64, got ${cmd.n}`);
      return value - cmd.n < 0n
        ? reject({ kind: "underflow", value, dec: cmd.n })
        : emitAndReply<CounterState, CounterEvt, CounterReply>(
            [{ evt: { $case: "decreased", value: { oldValue: value, dec: cmd.n } } }],
            (after) => after.value,
          );
  }
}

function handleEvt(state: CounterState, evt: CounterEvt): CounterState {
  switch (evt.evt?.$case) {
    case "increased":
      return { value: state.value + evt.evt.value.inc };
    case "decreased":
      return { value: state.value - evt.evt.value.dec };
    default:
      // An event written by a newer version with a kind this one does not know: fail loudly rather than
      // silently recover a wrong value.
      throw new Error("unknown counter event kind");
  }
}

/**
 * The counter entity: a u64 that `Inc` raises and `Dec` lowers, rejecting overflow and underflow, with a
 * read-only `Get`. Its events and state are the protobuf messages of `proto/counter.proto`.
 * @example
 * const ref = await Entity.spawn("counter-0", counter, { evtLog, binarizer: counterBinarizer("protobuf") });
 * const result = await ref.handleCmd(inc(42));
 * if (result.kind === "accepted") console.log(result.reply); // 42n
 */
export const counter = defineEntity<CounterState, CounterCmd, CounterEvt, CounterReply, CounterRejection>({
  typeName: COUNTER_TYPE_NAME,
  initialState: () => ({ value: 0n }),
  handleCmd,
  handleEvt,
});
