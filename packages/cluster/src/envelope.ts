import { InvalidArgumentError } from "@eventsourced/core";

// Request: [version u8][timeoutMs u32][id length u16][id][commandId length u16][commandId][command bytes]
// Reply:   [kind u8][body] with kind RESULT (codec bytes of the result), NOT_OWNER (empty),
//          OVERLOADED ([inFlight u32]), ERROR (UTF-8 JSON of a RemoteFailure).
const VERSION = 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** A routed command as the owner receives it. */
export interface RoutedCommand {
  readonly id: string;
  readonly commandId: string;
  /** What is left of the sender's budget, in milliseconds: a relative deadline (hosts' clocks may differ). */
  readonly timeoutMs: number;
  readonly cmd: Uint8Array;
}

/** An error the owner reports. */
export interface RemoteFailure {
  readonly code: string;
  readonly message: string;
  /** The command may have been applied. */
  readonly outcomeUnknown: boolean;
  /** Retrying (with the same command id) may succeed. */
  readonly retryable: boolean;
}

/** The owner's answer. */
export type RoutedReply =
  | { readonly kind: "result"; readonly result: Uint8Array }
  | { readonly kind: "not-owner" }
  | { readonly kind: "overloaded"; readonly inFlight: number }
  | { readonly kind: "error"; readonly failure: RemoteFailure };

const RESULT = 0;
const NOT_OWNER = 1;
const OVERLOADED = 2;
const ERROR = 3;

/** Encodes a request; the id and command id were validated by the caller. */
export function encodeRequest(id: string, commandId: string, timeoutMs: number, cmd: Uint8Array): Uint8Array {
  const idBytes = encoder.encode(id);
  const keyBytes = encoder.encode(commandId);
  const out = new Uint8Array(9 + idBytes.length + keyBytes.length + cmd.length);
  const view = new DataView(out.buffer);
  out[0] = VERSION;
  view.setUint32(1, Math.max(0, Math.min(0xffffffff, Math.floor(timeoutMs))));
  view.setUint16(5, idBytes.length);
  out.set(idBytes, 7);
  let at = 7 + idBytes.length;
  view.setUint16(at, keyBytes.length);
  out.set(keyBytes, at + 2);
  at += 2 + keyBytes.length;
  out.set(cmd, at);
  return out;
}

/** Decodes a request; throws `InvalidArgumentError` on bytes that are not one. */
export function decodeRequest(bytes: Uint8Array): RoutedCommand {
  if (bytes.length < 9 || bytes[0] !== VERSION) {
    throw new InvalidArgumentError(`not a cluster request (version ${bytes[0]}, ${bytes.length} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const timeoutMs = view.getUint32(1);
  const idLength = view.getUint16(5);
  let at = 7 + idLength;
  if (at + 2 > bytes.length) throw new InvalidArgumentError("truncated cluster request");
  const id = decoder.decode(bytes.subarray(7, at));
  const keyLength = view.getUint16(at);
  at += 2;
  if (at + keyLength > bytes.length) throw new InvalidArgumentError("truncated cluster request");
  const commandId = decoder.decode(bytes.subarray(at, at + keyLength));
  return { id, commandId, timeoutMs, cmd: bytes.subarray(at + keyLength) };
}

/** Encodes the owner's reply. */
export function encodeReply(reply: RoutedReply): Uint8Array {
  switch (reply.kind) {
    case "result": {
      const out = new Uint8Array(1 + reply.result.length);
      out[0] = RESULT;
      out.set(reply.result, 1);
      return out;
    }
    case "not-owner":
      return Uint8Array.of(NOT_OWNER);
    case "overloaded": {
      const out = new Uint8Array(5);
      out[0] = OVERLOADED;
      new DataView(out.buffer).setUint32(1, Math.min(0xffffffff, reply.inFlight));
      return out;
    }
    case "error": {
      const body = encoder.encode(JSON.stringify(reply.failure));
      const out = new Uint8Array(1 + body.length);
      out[0] = ERROR;
      out.set(body, 1);
      return out;
    }
  }
}

/** Decodes the owner's reply; throws `InvalidArgumentError` on bytes that are not one. */
export function decodeReply(bytes: Uint8Array): RoutedReply {
  switch (bytes[0]) {
    case RESULT:
      return { kind: "result", result: bytes.subarray(1) };
    case NOT_OWNER:
      return { kind: "not-owner" };
    case OVERLOADED:
      if (bytes.length < 5) break;
      return {
        kind: "overloaded",
        inFlight: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1),
      };
    case ERROR: {
      let failure: Partial<Record<keyof RemoteFailure, unknown>> | null;
      try {
        failure = JSON.parse(decoder.decode(bytes.subarray(1))) as typeof failure;
      } catch (error) {
        throw new InvalidArgumentError("not a cluster reply (undecodable error)", { cause: error });
      }
      if (
        typeof failure !== "object" ||
        failure === null ||
        typeof failure.code !== "string" ||
        typeof failure.message !== "string" ||
        typeof failure.outcomeUnknown !== "boolean" ||
        typeof failure.retryable !== "boolean"
      ) {
        throw new InvalidArgumentError("not a cluster reply (an error that is not a RemoteFailure)");
      }
      return { kind: "error", failure: failure as RemoteFailure };
    }
  }
  throw new InvalidArgumentError(`not a cluster reply (kind ${bytes[0]}, ${bytes.length} bytes)`);
}
