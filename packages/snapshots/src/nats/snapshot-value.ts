import { DecodeError } from "@eventsourced/core";

/**
 * A snapshot as a KV value: one format byte, the seqNo as a big-endian unsigned 64-bit integer, then the
 * state bytes. The seqNo sits in front so that a save can compare it without decoding the state.
 */
const FORMAT_V1 = 1;
const HEADER_BYTES = 9;

/** Bytes a value adds to the state. */
export const SNAPSHOT_VALUE_OVERHEAD = HEADER_BYTES;

export function encodeSnapshotValue(seqNo: number, state: Uint8Array): Uint8Array {
  const value = new Uint8Array(HEADER_BYTES + state.length);
  const view = new DataView(value.buffer);
  view.setUint8(0, FORMAT_V1);
  view.setBigUint64(1, BigInt(seqNo));
  value.set(state, HEADER_BYTES);
  return value;
}

/** The seqNo and state of a stored value; throws `DecodeError` on bytes this package did not write. */
export function decodeSnapshotValue(
  value: Uint8Array,
  type: string,
  id: string,
): { readonly seqNo: number; readonly bytes: Uint8Array } {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (value.length < HEADER_BYTES || view.getUint8(0) !== FORMAT_V1) {
    throw new DecodeError("snapshot", type, id, 0, {
      cause: new Error(`unknown snapshot value format (${value.length} bytes, format byte ${value[0]})`),
    });
  }
  const seqNo = Number(view.getBigUint64(1));
  return { seqNo, bytes: value.slice(HEADER_BYTES) };
}
