import { InvalidArgumentError, validateTypeAndId } from "@eventsourced/core";

// The same id mapping as the subjects of @eventsourced/evtlog-nats (kept in sync by its tests and ours), so
// that a snapshot key reads like the entity's subject. Copied rather than imported: this package must not
// depend on the event-log package.

/** The KV key of an entity's snapshot: `<type>.<encoded id>`; throws `InvalidArgumentError` when unusable. */
export function snapshotKey(type: string, id: string): string {
  validateTypeAndId(type, id);
  const token = encodeIdToken(id);
  if (token.length > MAX_ENCODED_ID_LENGTH) {
    throw new InvalidArgumentError(
      `entity id too long for a NATS KV key: ${token.length} encoded characters (at most ${MAX_ENCODED_ID_LENGTH})`,
    );
  }
  return `${type}.${token}`;
}

/** The longest encoded id accepted (NATS limits a protocol line to 4 KiB by default). */
export const MAX_ENCODED_ID_LENGTH = 2_048;

/**
 * How entity ids become one NATS subject token, injectively and readably:
 *
 * - `A-Z`, `a-z`, `0-9`, `_` and `-` stay as they are, so uuids and slugs are readable in `nats` tooling;
 * - every other character becomes `=` followed by the two upper-case hex digits of each of its UTF-8 bytes
 *   (`.` -> `=2E`, space -> `=20`, `=` -> `=3D`, `é` -> `=C3=A9`);
 * - a lone UTF-16 surrogate (not valid Unicode, but a legal JS string) becomes `=u` plus four hex digits,
 *   so even such ids never collide with `U+FFFD`.
 *
 * The result contains only `[A-Za-z0-9_=-]`: never `.`, `*`, `>`, whitespace or a leading `$`, so an id
 * can neither add a subject token nor turn into a wildcard, and two different ids never share a subject.
 */
export function encodeIdToken(id: string): string {
  let out = "";
  for (let i = 0; i < id.length; i++) {
    const unit = id.charCodeAt(i);
    if (isKept(unit)) {
      out += id[i];
      continue;
    }
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < id.length) {
      const next = id.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += utf8Escape(((unit - 0xd800) << 10) + (next - 0xdc00) + 0x10000);
        i++;
        continue;
      }
    }
    if (unit >= 0xd800 && unit <= 0xdfff) {
      out += `=u${unit.toString(16).toUpperCase().padStart(4, "0")}`;
      continue;
    }
    out += utf8Escape(unit);
  }
  return out;
}

function isKept(unit: number): boolean {
  return (
    (unit >= 0x30 && unit <= 0x39) || // 0-9
    (unit >= 0x41 && unit <= 0x5a) || // A-Z
    (unit >= 0x61 && unit <= 0x7a) || // a-z
    unit === 0x5f || // _
    unit === 0x2d // -
  );
}

function utf8Escape(codePoint: number): string {
  let out = "";
  for (const byte of utf8Encoder.encode(String.fromCodePoint(codePoint))) {
    out += `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const utf8Encoder = new TextEncoder();
