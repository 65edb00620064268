/**
 * A lease as a KV value: JSON `{"owner": string, "epoch"?: number}`. The acquiring write carries no epoch:
 * its own revision is the epoch (a stream sequence, so a later takeover always gets a greater one). Every
 * renewal writes the epoch explicitly, since a renewal gets a new revision while the epoch stays.
 */
export interface LeaseValue {
  readonly owner: string;
  readonly epoch?: number | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeLeaseValue(value: LeaseValue): Uint8Array {
  return encoder.encode(JSON.stringify(value.epoch === undefined ? { owner: value.owner } : value));
}

/** The owner and epoch stored in an entry of revision `revision`; `undefined` for bytes this package did not write. */
export function decodeLeaseValue(
  bytes: Uint8Array,
  revision: number,
): { readonly owner: string; readonly epoch: number } | undefined {
  try {
    const parsed = JSON.parse(decoder.decode(bytes)) as { owner?: unknown; epoch?: unknown };
    if (typeof parsed.owner !== "string") return undefined;
    if (parsed.epoch === undefined) return { owner: parsed.owner, epoch: revision };
    return Number.isSafeInteger(parsed.epoch)
      ? { owner: parsed.owner, epoch: parsed.epoch as number }
      : undefined;
  } catch {
    return undefined;
  }
}
