import { DecodeError, type Snapshot } from "@eventsourced/core";

/**
 * A snapshot as a KV value: one format byte, the seqNo as a big-endian unsigned 64-bit integer, then
 * (format 2 only) the version's length in bytes as a big-endian 16-bit integer and the version in UTF-8,
 * then the state bytes. The seqNo sits in front so that a save can compare it without decoding the state.
 *
 * Format 1 (no version) is still written for snapshots without a version, so that a process running the
 * previous release reads them during a rolling upgrade; both formats are read.
 */
const FORMAT_V1 = 1;
const FORMAT_V2 = 2;
const HEADER_BYTES = 9;
const MAX_VERSION_BYTES = 0xffff;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Bytes a value adds to the state, besides the version (2 + its UTF-8 length when there is one). */
export const SNAPSHOT_VALUE_OVERHEAD = HEADER_BYTES;

/** The KV value of a snapshot (see above). Throws `RangeError` for a version longer than 65,535 bytes. */
export function encodeSnapshotValue(snapshot: Snapshot): Uint8Array {
  const { seqNo, bytes: state, version } = snapshot;
  const versionBytes = version === undefined ? undefined : encoder.encode(version);
  if (versionBytes !== undefined && versionBytes.length > MAX_VERSION_BYTES) {
    throw new RangeError(
      `snapshot version is ${versionBytes.length} bytes of UTF-8, at most ${MAX_VERSION_BYTES}`,
    );
  }
  const prefix = versionBytes === undefined ? HEADER_BYTES : HEADER_BYTES + 2 + versionBytes.length;
  const value = new Uint8Array(prefix + state.length);
  const view = new DataView(value.buffer);
  view.setUint8(0, versionBytes === undefined ? FORMAT_V1 : FORMAT_V2);
  view.setBigUint64(1, BigInt(seqNo));
  if (versionBytes !== undefined) {
    view.setUint16(HEADER_BYTES, versionBytes.length);
    value.set(versionBytes, HEADER_BYTES + 2);
  }
  value.set(state, prefix);
  return value;
}

/** The snapshot in a stored value; throws `DecodeError` on bytes this package did not write. */
export function decodeSnapshotValue(value: Uint8Array, type: string, id: string): Snapshot {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const format = value.length < HEADER_BYTES ? undefined : view.getUint8(0);
  const unknown = (why: string) =>
    new DecodeError("snapshot", type, id, 0, {
      cause: new Error(
        `unknown snapshot value format (${value.length} bytes, format byte ${value[0]}): ${why}`,
      ),
    });
  if (format !== FORMAT_V1 && format !== FORMAT_V2) throw unknown("not a snapshot value");
  const seqNo = Number(view.getBigUint64(1));
  if (format === FORMAT_V1) return { seqNo, bytes: value.slice(HEADER_BYTES) };
  if (value.length < HEADER_BYTES + 2) throw unknown("truncated version");
  const length = view.getUint16(HEADER_BYTES);
  const start = HEADER_BYTES + 2;
  if (value.length < start + length) throw unknown("truncated version");
  let version: string;
  try {
    version = decoder.decode(value.subarray(start, start + length));
  } catch (cause) {
    throw new DecodeError("snapshot", type, id, seqNo, { cause });
  }
  return { seqNo, bytes: value.slice(start + length), version };
}

/** The seqNo of a stored value without decoding the rest; -1 for a value this package cannot read. */
export function storedSeqNoOf(value: Uint8Array): number {
  if (value.length < HEADER_BYTES || (value[0] !== FORMAT_V1 && value[0] !== FORMAT_V2)) return -1;
  return Number(new DataView(value.buffer, value.byteOffset, value.byteLength).getBigUint64(1));
}
