import type { Binarizer } from "../binarizer.js";

/** What a protobuf `encode` returns: a writer whose `finish()` returns the bytes written and empties it. */
export interface ProtobufWriterLike {
  /** The encoded message (a copy the writer no longer uses); the writer is empty afterwards. */
  finish(): Uint8Array;
}

/**
 * The shape shared by ts-proto generated message functions (`MessageFns<T>`) and protobufjs `Type`s:
 * `encode(message, writer?).finish()` and `decode(bytes)`.
 */
export interface ProtobufMessageType<T> {
  /**
   * Encodes `message` into `writer` (a new one when none is given) and returns the writer. The binarizer
   * passes back the writer of its previous encode, so that one writer serves every message instead of a new
   * one (and its first buffer) per event: its `finish()` must leave it empty, as ts-proto's `BinaryWriter`
   * and protobufjs' `Writer` do. An `encode` that ignores `writer` works too.
   */
  encode(message: T, writer?: ProtobufWriterLike): ProtobufWriterLike;
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
    evtToBytes: reusingWriter(evt),
    evtFromBytes: (bytes) => evt.decode(bytes),
    stateToBytes: reusingWriter(state),
    stateFromBytes: (bytes) => state.decode(bytes),
  };
}

/**
 * `type`'s encoding to bytes, each encode into the writer the previous one returned: a new writer per
 * message (a 128-byte buffer, a fork stack) cost about as much as encoding a small event. The writer is taken
 * out while an encode runs and put back only after `finish()` emptied it, so an encode that throws halfway
 * (or one nested in another) never leaves its bytes to the next message.
 */
function reusingWriter<T>(type: ProtobufMessageType<T>): (message: T) => Uint8Array {
  let idle: ProtobufWriterLike | undefined;
  return (message) => {
    const given = idle;
    idle = undefined;
    const writer = type.encode(message, given);
    const bytes = writer.finish();
    idle = writer;
    return bytes;
  };
}
