import { InvalidArgumentError, validateTypeAndId } from "@eventsourced/core";

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
 * The same token is also a valid NATS KV key segment.
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

/**
 * Inverse of {@link encodeIdToken}; throws `InvalidArgumentError` on a token it could not have produced
 * (including non-canonical spellings such as `=41` for `A`, so a foreign subject never aliases an entity).
 */
export function decodeIdToken(token: string): string {
  if (PLAIN_TOKEN.test(token)) return token;
  let id: string;
  try {
    id = decodeLoosely(token);
  } catch (cause) {
    // Escapes that spell invalid UTF-8 make the fatal decoder throw a TypeError.
    if (cause instanceof InvalidArgumentError) throw cause;
    throw new InvalidArgumentError(`not an encoded entity id token: ${JSON.stringify(token)}`, { cause });
  }
  if (encodeIdToken(id) !== token) {
    throw new InvalidArgumentError(`not a canonically encoded entity id token: ${JSON.stringify(token)}`);
  }
  return id;
}

function decodeLoosely(token: string): string {
  let out = "";
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length > 0) {
      out += utf8Decoder.decode(new Uint8Array(bytes));
      bytes = [];
    }
  };
  for (let i = 0; i < token.length; ) {
    const unit = token.charCodeAt(i);
    if (isKept(unit)) {
      flush();
      out += token[i];
      i++;
    } else if (token[i] === "=" && token[i + 1] === "u" && HEX4.test(token.slice(i + 2, i + 6))) {
      flush();
      out += String.fromCharCode(Number.parseInt(token.slice(i + 2, i + 6), 16));
      i += 6;
    } else if (token[i] === "=" && HEX2.test(token.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      throw new InvalidArgumentError(`not an encoded entity id token: ${JSON.stringify(token)}`);
    }
  }
  flush();
  return out;
}

/**
 * The longest encoded id accepted. NATS limits a protocol control line (subject, reply inbox and sizes) to
 * 4 KiB by default (`max_control_line`); this leaves room for the prefix, the type and the inbox.
 */
export const MAX_ENCODED_ID_LENGTH = 2_048;

/** Subject names of one stream: `<prefix>.<type>.<encoded id>`. */
export class Subjects {
  readonly #prefix: string;

  /** `prefix` is one or more dot-separated tokens of `[A-Za-z0-9_-]` (validated by the caller's options). */
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** The subject pattern the stream must capture: `<prefix>.>`. */
  get streamSubject(): string {
    return `${this.#prefix}.>`;
  }

  /** The subject of one entity; validates type and id and throws `InvalidArgumentError` when unusable. */
  entity(type: string, id: string): string {
    validateTypeAndId(type, id);
    const token = encodeIdToken(id);
    if (token.length > MAX_ENCODED_ID_LENGTH) {
      throw new InvalidArgumentError(
        `entity id too long for a NATS subject: ${token.length} encoded characters (at most ${MAX_ENCODED_ID_LENGTH})`,
      );
    }
    return `${this.#prefix}.${type}.${token}`;
  }

  /** The single filter subject of all entities of `type`: `<prefix>.<type>.*`. */
  byType(type: string): string {
    validateTypeAndId(type, "-");
    return `${this.#prefix}.${type}.*`;
  }

  /** The id of the entity a subject of this stream belongs to (the last token, decoded). */
  idOf(subject: string): string {
    return decodeIdToken(subject.slice(subject.lastIndexOf(".") + 1));
  }
}

/** Subject prefixes: dot-separated tokens of letters, digits, `_` and `-`. */
export const SUBJECT_PREFIX_PATTERN: RegExp = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

const PLAIN_TOKEN = /^[A-Za-z0-9_-]+$/;
const HEX2 = /^[0-9A-F]{2}$/;
const HEX4 = /^[0-9A-F]{4}$/;
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

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
