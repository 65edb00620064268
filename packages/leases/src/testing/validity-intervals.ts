import type { LeaseLogEntry } from "../lease-log-entry.js";

/** When one tenure was locally valid, from a keeper's log (times from `process.hrtime.bigint()`). */
export interface ValidityInterval {
  readonly key: string;
  readonly owner: string;
  readonly epoch: number;
  readonly start: bigint;
  readonly end: bigint;
  /** False when the log has no `"ended"` entry (the process died): `end` is its last logged deadline. */
  readonly ended: boolean;
}

/**
 * The validity interval of each tenure in `entries` (from any number of keepers and processes on one host):
 * from `"acquired"` to the `"ended"` entry's `validUntil`, or, without one, to the latest `validUntil` logged.
 */
export function validityIntervals(entries: Iterable<LeaseLogEntry>): ValidityInterval[] {
  const byTenure = new Map<
    string,
    { key: string; owner: string; epoch: number; start?: bigint; end: bigint; ended: boolean }
  >();
  for (const entry of entries) {
    const id = JSON.stringify([entry.key, entry.owner, entry.epoch]);
    let tenure = byTenure.get(id);
    if (tenure === undefined) {
      tenure = {
        key: entry.key,
        owner: entry.owner,
        epoch: entry.epoch,
        end: entry.validUntil,
        ended: false,
      };
      byTenure.set(id, tenure);
    }
    if (entry.event === "acquired") tenure.start = entry.at;
    if (entry.event === "ended") {
      tenure.end = entry.validUntil;
      tenure.ended = true;
    } else if (!tenure.ended && entry.validUntil > tenure.end) {
      tenure.end = entry.validUntil;
    }
  }
  const intervals: ValidityInterval[] = [];
  for (const t of byTenure.values()) {
    if (t.start === undefined) continue; // the acquisition was not logged: nothing to check
    intervals.push({
      key: t.key,
      owner: t.owner,
      epoch: t.epoch,
      start: t.start,
      end: t.end,
      ended: t.ended,
    });
  }
  return intervals.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/**
 * Pairs of intervals of the same key that overlap: two holders that both considered themselves valid at
 * the same instant. An empty result is the safety property of leases.
 */
export function overlappingIntervals(
  intervals: readonly ValidityInterval[],
): [ValidityInterval, ValidityInterval][] {
  const overlaps: [ValidityInterval, ValidityInterval][] = [];
  const byKey = new Map<string, ValidityInterval[]>();
  for (const interval of intervals) {
    const group = byKey.get(interval.key);
    if (group === undefined) byKey.set(interval.key, [interval]);
    else group.push(interval);
  }
  for (const group of byKey.values()) {
    const sorted = [...group].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length && sorted[j]!.start < sorted[i]!.end; j++) {
        overlaps.push([sorted[i]!, sorted[j]!]);
      }
    }
  }
  return overlaps;
}

/** `entry` as one JSON line (bigints as decimal strings), for a child process to print. */
export function leaseLogLine(entry: LeaseLogEntry): string {
  return JSON.stringify(entry, (_, value) => (typeof value === "bigint" ? value.toString() : value));
}

/** The inverse of {@link leaseLogLine}. */
export function parseLeaseLogLine(line: string): LeaseLogEntry {
  const raw = JSON.parse(line) as LeaseLogEntry & { at: string; validUntil: string };
  return { ...raw, at: BigInt(raw.at), validUntil: BigInt(raw.validUntil) };
}
