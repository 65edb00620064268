/**
 * Turns events and state into bytes and back. Decoding failures should throw; the runtime wraps them in a
 * `DecodeError` naming the entity and seqNo.
 */
export interface Binarizer<E, S> {
  /** Stored with every event so old encodings can be told apart (and upcast) later. */
  readonly contentType: string;
  /** Encodes one event; throwing makes the command fail with `EncodeError` before anything is written. */
  evtToBytes(evt: E): Uint8Array;
  /** `contentType` is the marker stored with the event, when the log has one. */
  evtFromBytes(bytes: Uint8Array, contentType?: string): E;
  /**
   * Optional: decodes one stored event into the events it stands for today, which may be several (an old
   * event split in two) or none (an event type that was dropped); all of them fold at the stored event's
   * seqNo. When present, recovery and `decodeEvts` use it instead of `evtFromBytes` (see
   * `upcastingBinarizer`).
   */
  evtsFromBytes?(bytes: Uint8Array, contentType?: string): readonly E[];
  /** Encodes a snapshot's state. */
  stateToBytes(state: S): Uint8Array;
  /**
   * Decodes a snapshot's state; throwing fails recovery with a `DecodeError`. `version` is the snapshot's
   * stored version (see `SpawnOptions.snapshotVersion`), so one binarizer can read several.
   */
  stateFromBytes(bytes: Uint8Array, version?: string): S;
}
