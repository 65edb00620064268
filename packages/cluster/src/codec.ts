import { jsonFromBytes, jsonToBytes } from "@eventsourced/core";

/**
 * How commands and command results travel between processes. Entity binarizers encode events, not
 * commands, so commands get a codec of their own; the default is JSON ({@link jsonCodec}), in which
 * bigints survive. A command or reply holding `Date`, `Map` or class instances needs a codec that keeps them.
 */
export interface ClusterCodec {
  /** Encodes a command (sender) or a command result (owner); a throw fails that command only. */
  encode(value: unknown): Uint8Array;
  /** Decodes what `encode` wrote in another process (same codec on every node). */
  decode(bytes: Uint8Array): unknown;
}

/** The default {@link ClusterCodec}: UTF-8 JSON, bigints as `{"$bigint":"123"}` (core's `jsonToBytes`). */
export const jsonCodec: ClusterCodec = {
  encode: (value) => jsonToBytes(value),
  decode: (bytes) => jsonFromBytes(bytes),
};
