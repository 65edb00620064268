import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Binarizer } from "@eventsourced/core";
import { CliUsageError } from "./cli-errors.js";

/** Stored bytes as the CLI shows them. */
export interface DecodedBytes {
  /** How `value` was obtained: the given binarizer, JSON text, or neither (`hex` of the bytes). */
  readonly encoding: "binarizer" | "json" | "hex" | "undecodable";
  /** The decoded value (JSON-safe after {@link toJsonSafe}); the hex string; or the decoder's error message. */
  readonly value: unknown;
}

/** A binarizer from the command line: only the decoding side is used. */
export type Decoder = Pick<Binarizer<unknown, unknown>, "evtFromBytes" | "evtsFromBytes" | "stateFromBytes">;

function isDecoder(value: unknown): value is Decoder {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Decoder).evtFromBytes === "function" &&
    typeof (value as Decoder).stateFromBytes === "function"
  );
}

/**
 * Imports `<module>[#<export>]` (a path relative to `cwd`, or a package name) and returns its binarizer:
 * the named export, else the export `binarizer`, else the default export.
 * @throws CliUsageError when the module cannot be imported or exports no binarizer.
 */
export async function loadDecoder(spec: string, cwd: string): Promise<Decoder> {
  const hash = spec.lastIndexOf("#");
  const path = hash > 0 ? spec.slice(0, hash) : spec;
  const name = hash > 0 ? spec.slice(hash + 1) : undefined;
  const specifier =
    path.startsWith(".") || path.startsWith("/") ? pathToFileURL(resolve(cwd, path)).href : path;
  let module: Record<string, unknown>;
  try {
    module = (await import(specifier)) as Record<string, unknown>;
  } catch (cause) {
    throw new CliUsageError(
      // A module may throw anything (a string, null), not only an Error.
      `--binarizer: cannot import ${JSON.stringify(path)}: ${(cause instanceof Error ? cause.message : String(cause)).split("\n")[0]}`,
      { cause },
    );
  }
  const candidates = name === undefined ? ["binarizer", "default"] : [name];
  for (const candidate of candidates) {
    if (isDecoder(module[candidate])) return module[candidate];
  }
  throw new CliUsageError(
    `--binarizer: ${JSON.stringify(path)} has no binarizer export named ${candidates.join(" or ")} ` +
      `(an object with evtFromBytes and stateFromBytes; exports: ${Object.keys(module).join(", ") || "none"})`,
  );
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

function withoutBinarizer(bytes: Uint8Array): DecodedBytes {
  try {
    return { encoding: "json", value: JSON.parse(utf8.decode(bytes)) };
  } catch {
    return { encoding: "hex", value: hex(bytes) };
  }
}

function attempt(decode: () => unknown): DecodedBytes {
  try {
    return { encoding: "binarizer", value: decode() };
  } catch (err) {
    return { encoding: "undecodable", value: err instanceof Error ? err.message : String(err) };
  }
}

/** One stored event: by the binarizer (all the events it stands for today, when it upcasts), else JSON or hex. */
export function decodeEvt(
  bytes: Uint8Array,
  contentType: string | undefined,
  decoder?: Decoder,
): DecodedBytes {
  if (decoder === undefined) return withoutBinarizer(bytes);
  return attempt(() =>
    decoder.evtsFromBytes === undefined
      ? decoder.evtFromBytes(bytes, contentType)
      : decoder.evtsFromBytes(bytes, contentType),
  );
}

/** One snapshot's state: by the binarizer, else JSON or hex. */
export function decodeState(bytes: Uint8Array, version: string | undefined, decoder?: Decoder): DecodedBytes {
  if (decoder === undefined) return withoutBinarizer(bytes);
  return attempt(() => decoder.stateFromBytes(bytes, version));
}

/** A value JSON can carry: bigints as decimal strings, bytes as hex, dates as ISO text, Maps as objects. */
export function toJsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Uint8Array) return hex(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), toJsonSafe(v)]));
  if (Array.isArray(value)) return value.map(toJsonSafe);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, toJsonSafe(v)]),
    );
  }
  return value;
}
