import { InvalidArgumentError } from "@eventsourced/core";

// With the default JSON codec the whole request is one UTF-8 string, encoded and decoded in one call:
//   "\x02" timeoutMs " " idLength " " id commandIdLength " " commandId json
// (lengths in UTF-16 code units; ids are well-formed, so they survive UTF-8 exactly), and a result is
//   "\x04" json
// This saves the separate encodings and copies of the binary envelope on the hot path.
/** First byte of a JSON-text request. */
export const JSON_REQUEST = 2;
/** First byte of a JSON-text result reply. */
export const JSON_RESULT = 4;

const BIGINT_KEY = "$bigint";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

// The same bigint convention as core's jsonToBytes / jsonFromBytes.
function replacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? { [BIGINT_KEY]: value.toString() } : value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const digits = (value as Record<string, unknown>)[BIGINT_KEY];
    if (typeof digits === "string" && Object.keys(value).length === 1) return BigInt(digits);
  }
  return value;
}

/** A JSON-text request. */
export function encodeJsonRequest(
  id: string,
  commandId: string,
  timeoutMs: number,
  cmd: unknown,
): Uint8Array {
  const timeout = Math.max(0, Math.min(0xffffffff, Math.floor(timeoutMs)));
  const json = JSON.stringify(cmd, replacer) as string | undefined;
  if (json === undefined) throw new InvalidArgumentError(`a ${typeof cmd} cannot travel as JSON`);
  return encoder.encode(`\x02${timeout} ${id.length} ${id}${commandId.length} ${commandId}${json}`);
}

/** Decodes a JSON-text request (the first byte was checked); throws `InvalidArgumentError` on a bad one. */
export function decodeJsonRequest(bytes: Uint8Array): {
  id: string;
  commandId: string;
  timeoutMs: number;
  value: unknown;
} {
  const text = decoder.decode(bytes);
  const a = text.indexOf(" ", 1);
  const b = text.indexOf(" ", a + 1);
  const idLength = Number(text.slice(a + 1, b));
  const keyAt = b + 1 + idLength;
  const c = text.indexOf(" ", keyAt);
  const keyLength = Number(text.slice(keyAt, c));
  const timeoutMs = Number(text.slice(1, a));
  if (
    a < 0 ||
    b < 0 ||
    c < 0 ||
    !Number.isInteger(idLength) ||
    !Number.isInteger(keyLength) ||
    idLength < 0 ||
    keyLength < 0 ||
    !(Number.isInteger(timeoutMs) && timeoutMs >= 0 && timeoutMs <= 0xffffffff)
  ) {
    throw new InvalidArgumentError("not a cluster request (bad JSON envelope)");
  }
  const value = JSON.parse(text.slice(c + 1 + keyLength), reviver);
  return {
    id: text.slice(b + 1, keyAt),
    commandId: text.slice(c + 1, c + 1 + keyLength),
    timeoutMs,
    value,
  };
}

/** A JSON-text result reply. */
export function encodeJsonResult(result: unknown): Uint8Array {
  return encoder.encode(`\x04${JSON.stringify(result, replacer)}`);
}

/** Decodes a JSON-text result reply (the first byte was checked). */
export function decodeJsonResult(bytes: Uint8Array): unknown {
  return JSON.parse(decoder.decode(bytes.subarray(1)), reviver);
}
