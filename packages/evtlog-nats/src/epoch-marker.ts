import { InvalidArgumentError } from "@eventsourced/core";
import type { MsgHdrs } from "@nats-io/transport-node";
import { Header } from "./envelope.js";

/**
 * The tenure a fenced persist or an epoch marker is written under, on NATS: the epoch of the lease the
 * writer holds (for a cluster: the shard lease) and, for audit, who holds it.
 */
export interface NatsFence {
  /** The lease's epoch (fencing token): a positive integer, greater for every later tenure. */
  readonly epoch: number;
  /** The writer, recorded in the `Es-Owner` header: printable ASCII, at most 255 characters. */
  readonly owner?: string | undefined;
}

/** Throws `InvalidArgumentError` unless `fence` is a well-formed {@link NatsFence}. */
export function validateNatsFence(fence: NatsFence): void {
  if (typeof fence !== "object" || fence === null) {
    throw new InvalidArgumentError("invalid fence: an object { epoch, owner? }");
  }
  if (!Number.isSafeInteger(fence.epoch) || fence.epoch < 1) {
    throw new InvalidArgumentError(`invalid fence epoch ${String(fence.epoch)}: a positive integer`);
  }
  const { owner } = fence;
  if (owner !== undefined && (typeof owner !== "string" || !/^[\x20-\x7e]{1,255}$/.test(owner))) {
    throw new InvalidArgumentError(
      `invalid fence owner ${JSON.stringify(owner)}: 1 to 255 printable ASCII characters (it is a message header)`,
    );
  }
}

/** Sets the fence headers (`Es-Epoch`, `Es-Owner`) on a message. */
export function setFenceHeaders(hdrs: MsgHdrs, fence: NatsFence): void {
  hdrs.set(Header.Epoch, String(fence.epoch));
  if (fence.owner !== undefined) hdrs.set(Header.Owner, fence.owner);
}

/** The entity's last seqNo recorded by an epoch marker; undefined when the message is not a marker. */
export function markerLastSeqNo(hdrs: MsgHdrs | undefined): number | undefined {
  const value = hdrs?.get(Header.Marker);
  if (value === undefined || value === "") return undefined;
  const lastSeqNo = Number(value);
  return Number.isSafeInteger(lastSeqNo) && lastSeqNo >= 0 ? lastSeqNo : undefined;
}

/** The epoch a message was written under (marker or fenced persist); undefined when it carries none. */
export function messageEpoch(hdrs: MsgHdrs | undefined): number | undefined {
  const value = hdrs?.get(Header.Epoch);
  if (value === undefined || value === "") return undefined;
  const epoch = Number(value);
  return Number.isSafeInteger(epoch) && epoch >= 1 ? epoch : undefined;
}

/**
 * Whether a message read from the stream is an epoch marker. Markers have an empty body and events never
 * do, so an event's headers are not parsed here: `nats.js` decodes a message's headers on first access,
 * and doing that for every event of a replay cost about 15 % of its client time (plus the garbage).
 */
export function isEpochMarker(msg: {
  readonly data: Uint8Array;
  readonly headers?: MsgHdrs | undefined;
}): boolean {
  return msg.data.length === 0 && markerLastSeqNo(msg.headers) !== undefined;
}
