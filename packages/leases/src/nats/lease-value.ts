/**
 * A lease as a KV value: JSON `{"owner": string, "base"?: number, "epoch"?: number}`. The acquiring write
 * carries the bucket's epoch base instead of an epoch: its epoch is `base + revision` (its own revision, a
 * stream sequence, so a later takeover in the same bucket always gets a greater one; the base, from the
 * bucket's creation time, keeps epochs growing when the bucket is deleted and recreated, ADR 0136). Every
 * renewal writes the epoch explicitly, since a renewal gets a new revision while the epoch stays. A value
 * with neither (written before ADR 0136) has its revision as its epoch.
 */
export interface LeaseValue {
  readonly owner: string;
  /** The bucket's epoch base when the lease was acquired (acquiring writes only). */
  readonly base?: number | undefined;
  readonly epoch?: number | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeLeaseValue(value: LeaseValue): Uint8Array {
  const { owner, base, epoch } = value;
  if (epoch !== undefined) return encoder.encode(JSON.stringify({ owner, epoch }));
  return encoder.encode(JSON.stringify(base === undefined ? { owner } : { owner, base }));
}

/** The owner and epoch stored in an entry of revision `revision`; `undefined` for bytes this package did not write. */
export function decodeLeaseValue(
  bytes: Uint8Array,
  revision: number,
): { readonly owner: string; readonly epoch: number } | undefined {
  try {
    const parsed = JSON.parse(decoder.decode(bytes)) as { owner?: unknown; base?: unknown; epoch?: unknown };
    if (typeof parsed.owner !== "string") return undefined;
    if (parsed.epoch !== undefined) {
      return Number.isSafeInteger(parsed.epoch)
        ? { owner: parsed.owner, epoch: parsed.epoch as number }
        : undefined;
    }
    if (parsed.base === undefined) return { owner: parsed.owner, epoch: revision };
    const epoch = (parsed.base as number) + revision;
    return Number.isSafeInteger(parsed.base) && (parsed.base as number) >= 0 && Number.isSafeInteger(epoch)
      ? { owner: parsed.owner, epoch }
      : undefined;
  } catch {
    return undefined;
  }
}
