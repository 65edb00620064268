import type { Binarizer } from "../binarizer.js";

/**
 * The shape shared by ts-proto generated message functions (`MessageFns<T>`) and protobufjs `Type`s:
 * `encode(message).finish()` and `decode(bytes)`.
 */
export interface ProtobufMessageType<T> {
  /** Starts encoding `message`; `finish()` returns its bytes. */
  encode(message: T): {
    /** The encoded message. */
    finish(): Uint8Array;
  };
  /** Decodes one message; throws on malformed bytes. */
  decode(bytes: Uint8Array): T;
}

/** Options of {@link protobufBinarizer}. */
export interface ProtobufBinarizerOptions<E, S> {
  /** Message type of events (typically a wrapper with a `oneof` over the event kinds). */
  readonly evt: ProtobufMessageType<E>;
  /** Message type of the snapshot state. */
  readonly state: ProtobufMessageType<S>;
  /** Fully qualified event message name, stored as the content-type marker, e.g. `"counter.v1.CounterEvt"`. */
  readonly evtTypeName?: string | undefined;
}

/**
 * A protobuf binarizer over ts-proto generated message functions or protobufjs types.
 * @example
 * import { CounterEvt, CounterState } from "./generated/counter.js";
 * const binarizer = protobufBinarizer({ evt: CounterEvt, state: CounterState, evtTypeName: "counter.v1.CounterEvt" });
 */
export function protobufBinarizer<E, S>(options: ProtobufBinarizerOptions<E, S>): Binarizer<E, S> {
  const { evt, state } = options;
  return {
    contentType: `application/x-protobuf${options.evtTypeName ? `; messageType=${options.evtTypeName}` : ""}`,
    evtToBytes: (e) => evt.encode(e).finish(),
    evtFromBytes: (bytes) => evt.decode(bytes),
    stateToBytes: (s) => state.encode(s).finish(),
    stateFromBytes: (bytes) => state.decode(bytes),
  };
}
