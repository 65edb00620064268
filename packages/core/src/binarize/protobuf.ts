import type { Binarizer } from "../binarizer.js";

/** What a protobuf `encode` returns: a writer whose `finish()` returns the bytes written. */
export interface ProtobufWriterLike {
  /**
   * The encoded message, a copy the writer no longer uses. ts-proto's `BinaryWriter` is empty afterwards;
   * protobufjs' `Writer` keeps what it wrote (the binarizer then uses a new writer per message).
   */
  finish(): Uint8Array;
}

/**
 * The shape shared by ts-proto generated message functions (`MessageFns<T>`) and protobufjs `Type`s:
 * `encode(message, writer?).finish()` and `decode(bytes)`.
 */
export interface ProtobufMessageType<T> {
  /**
   * Encodes `message` into `writer` (a new one when none is given) and returns the writer. The binarizer
   * passes back the writer of its previous encode when that writer's `finish()` left it empty (ts-proto's
   * `BinaryWriter`), so that one writer serves every message instead of a new one (and its first buffer) per
   * event. A writer that keeps what it wrote (protobufjs' `Writer`), or an `encode` that ignores `writer`,
   * gets no writer passed back.
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
 * A writer that wrote a message larger than this is not reused: ts-proto's writer keeps its buffer (grown to
 * the largest message it wrote) across `finish()`, so one large snapshot would otherwise pin that much
 * memory per binarizer for good. Copying such a message costs far more than a new writer.
 */
const MAX_REUSED_BYTES = 64 * 1024;

/**
 * `type`'s encoding to bytes, each encode into the writer the previous one returned: a new writer per
 * message (a 128-byte buffer, a fork stack) cost about as much as encoding a small event. The writer is taken
 * out while an encode runs and put back only after `finish()` emptied it, so an encode that throws halfway
 * (or one nested in another) never leaves its bytes to the next message.
 *
 * A writer is put back only once it is known to be empty after `finish()`: the first writer `encode`
 * returns for a message of at least one byte is asked to `finish()` a second time, which must give none.
 * protobufjs' `Writer.finish()` copies what was written and keeps it, so a writer passed back would start
 * every message with all the messages before it (decoded, a message merged with every earlier one). Such
 * writers, and an `encode` that does not use the writer it is given, are not reused: a new writer per
 * message, as without this reuse. Nor is a writer that wrote more than {@link MAX_REUSED_BYTES}.
 */
function reusingWriter<T>(type: ProtobufMessageType<T>): (message: T) => Uint8Array {
  let idle: ProtobufWriterLike | undefined;
  /** False once a writer proved not reusable: then every encode gets a new writer. */
  let reuse = true;
  return (message) => {
    const given = idle;
    idle = undefined;
    const writer = type.encode(message, given);
    const bytes = writer.finish();
    if (!reuse || bytes.length > MAX_REUSED_BYTES) return bytes;
    if (writer === given) {
      idle = writer; // known to be emptied by `finish()`
    } else if (given !== undefined) {
      reuse = false; // `encode` does not use the writer it is given
    } else if (bytes.length > 0) {
      // Asked once, for a message of at least one byte (an empty message proves nothing).
      if (writer.finish().length === 0) idle = writer;
      else reuse = false;
    }
    return bytes;
  };
}
