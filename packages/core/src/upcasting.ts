import { jsonFromBytes, jsonToBytes } from "./binarize/json.js";
import type { Binarizer } from "./binarizer.js";
import { InvalidArgumentError } from "./errors/index.js";

/**
 * One step of an upcasting chain: reads an event stored under content type `from` and returns what it is
 * under content type `to`: one event (a renamed field), several (an event split in two) or none (an event
 * type that no longer exists). Steps chain until the current binarizer's content type is reached.
 */
export interface Upcaster {
  /** The content type this step reads, exactly as stored with the event. */
  readonly from: string;
  /** The content type of the bytes it returns: the next step's `from`, or the current content type. */
  readonly to: string;
  /** One stored event in, zero or more events (as bytes of content type `to`) out. Throwing fails decoding. */
  upcast(bytes: Uint8Array): readonly Uint8Array[];
}

/** A binarizer that decodes old events through a chain of upcasters (see {@link upcastingBinarizer}). */
export interface UpcastingBinarizer<E, S> extends Binarizer<E, S> {
  /** Decodes one stored event into the current events it stands for (none, one or several). */
  evtsFromBytes(bytes: Uint8Array, contentType?: string): readonly E[];
}

/**
 * Wraps the `current` binarizer so that events stored under older content types are upcast before they are
 * decoded. Encoding (events and state) and state decoding are `current`'s. An event stored under
 * `current.contentType` (or without a content type) is decoded by `current` directly; one stored under
 * another content type follows the chain of upcasters from its content type to the current one; a content
 * type without an upcaster fails decoding (recovery reports a `DecodeError` naming the seqNo).
 *
 * Every event the chain produces folds at the stored event's seqNo, so an event split in two still takes
 * one seqNo and a dropped event leaves its seqNo without a fold: seqNos stay those of the log.
 *
 * Throws `InvalidArgumentError` when two upcasters read the same content type, one reads the current
 * content type, or a chain does not end at the current content type (a loop or a missing step).
 * @example
 * const binarizer = upcastingBinarizer(jsonBinarizer({ contentType: "application/json; v=2" }), [
 *   jsonUpcaster("application/json", "application/json; v=2", (old: { type: string; n: number }) => [
 *     { type: old.type, amount: old.n },
 *   ]),
 * ]);
 */
export function upcastingBinarizer<E, S>(
  current: Binarizer<E, S>,
  upcasters: readonly Upcaster[],
): UpcastingBinarizer<E, S> {
  const byFrom = chainOf(current.contentType, upcasters);
  const evtsFromBytes = (bytes: Uint8Array, contentType?: string): readonly E[] => {
    if (contentType === undefined || contentType === current.contentType) {
      return [current.evtFromBytes(bytes, contentType)];
    }
    let pending: readonly Uint8Array[] = [bytes];
    let at = contentType;
    while (at !== current.contentType) {
      const step = byFrom.get(at);
      if (step === undefined) {
        throw new Error(
          `no upcaster reads content type ${JSON.stringify(at)} (current: ${JSON.stringify(current.contentType)})`,
        );
      }
      pending = pending.flatMap((b) => step.upcast(b));
      at = step.to;
    }
    return pending.map((b) => current.evtFromBytes(b, current.contentType));
  };
  return {
    contentType: current.contentType,
    evtToBytes: (evt) => current.evtToBytes(evt),
    evtFromBytes: (bytes, contentType) => {
      const evts = evtsFromBytes(bytes, contentType);
      if (evts.length !== 1) {
        throw new Error(
          `the event of content type ${JSON.stringify(contentType)} upcasts to ${evts.length} events; decode it with evtsFromBytes`,
        );
      }
      return evts[0]!;
    },
    evtsFromBytes,
    stateToBytes: (state) => current.stateToBytes(state),
    stateFromBytes: (bytes, version) => current.stateFromBytes(bytes, version),
  };
}

/** Checks the upcasters form chains that all end at `target`; returns them by the content type they read. */
function chainOf(target: string, upcasters: readonly Upcaster[]): ReadonlyMap<string, Upcaster> {
  if (!Array.isArray(upcasters)) throw new InvalidArgumentError("upcasters must be an array");
  const byFrom = new Map<string, Upcaster>();
  for (const upcaster of upcasters) {
    if (
      typeof upcaster?.upcast !== "function" ||
      typeof upcaster.from !== "string" ||
      typeof upcaster.to !== "string"
    ) {
      throw new InvalidArgumentError("an upcaster needs from and to (content types) and an upcast function");
    }
    if (upcaster.from === target) {
      throw new InvalidArgumentError(
        `an upcaster reads the current content type ${JSON.stringify(target)}; events of the current type are not upcast`,
      );
    }
    if (byFrom.has(upcaster.from)) {
      throw new InvalidArgumentError(`two upcasters read content type ${JSON.stringify(upcaster.from)}`);
    }
    byFrom.set(upcaster.from, upcaster);
  }
  for (const start of byFrom.keys()) {
    let at = start;
    for (let steps = 0; at !== target; steps++) {
      const next = byFrom.get(at);
      if (next === undefined || steps > byFrom.size) {
        throw new InvalidArgumentError(
          `the upcasters from ${JSON.stringify(start)} do not lead to the current content type ${JSON.stringify(target)}` +
            (next === undefined ? ` (nothing reads ${JSON.stringify(at)})` : " (they loop)"),
        );
      }
      at = next.to;
    }
  }
  return byFrom;
}

/**
 * An upcaster over JSON events (as `jsonBinarizer` writes them): `upcast` receives the old event as parsed
 * JSON and returns the events it becomes (an empty array drops it).
 * @example
 * // v1 stored { type: "renamed", n }; v2 calls the field `amount`.
 * jsonUpcaster("application/json", "application/json; v=2", (old: { n: number }) => [{ type: "renamed", amount: old.n }]);
 */
export function jsonUpcaster<Old = unknown>(
  from: string,
  to: string,
  upcast: (old: Old) => readonly unknown[],
): Upcaster {
  return {
    from,
    to,
    upcast: (bytes) => upcast(jsonFromBytes<Old>(bytes)).map((evt) => jsonToBytes(evt)),
  };
}
