import type { LocalOutcome } from "./cluster-client.js";
import { type ClusterCodec, jsonCodec } from "./codec.js";
import { decodeRequest, encodeReply, type RemoteFailure } from "./envelope.js";
import { decodeJsonRequest, encodeJsonResult, JSON_REQUEST } from "./json-envelope.js";
import { shardOf } from "./shard-function.js";
import type { Tenure } from "./tenure.js";
import type { ServedRequest } from "./transport.js";

function failed(request: ServedRequest, code: string, message: string): void {
  const failure: RemoteFailure = { code, message, outcomeUnknown: false, retryable: false };
  request.respond(encodeReply({ kind: "error", failure }));
}

/**
 * Serves one routed request on a shard's subject: decodes it, refuses an id of another shard (the sender
 * computes shards differently) or an undecodable command, hands it to `handle` and encodes the outcome.
 */
export function serveRequest(
  request: ServedRequest,
  tenure: Tenure,
  shardCount: number,
  codec: ClusterCodec,
  handle: (id: string, commandId: string, cmd: unknown, timeoutMs: number) => Promise<LocalOutcome>,
): void {
  let routed: { id: string; commandId: string; timeoutMs: number; cmd?: Uint8Array; value?: unknown };
  let cmd: unknown;
  try {
    routed =
      request.payload[0] === JSON_REQUEST
        ? decodeJsonRequest(request.payload)
        : decodeRequest(request.payload);
  } catch (error) {
    failed(request, "INVALID_ARGUMENT", String(error));
    return;
  }
  if (shardOf(routed.id, shardCount) !== tenure.shard) {
    failed(
      request,
      "SHARD_CONFIG_MISMATCH",
      `id ${JSON.stringify(routed.id)} is not of shard ${tenure.shard}`,
    );
    return;
  }
  try {
    cmd = routed.cmd === undefined ? routed.value : codec.decode(routed.cmd);
  } catch (error) {
    failed(request, "DECODE_FAILED", `cannot decode the command: ${String(error)}`);
    return;
  }
  void handle(routed.id, routed.commandId, cmd, routed.timeoutMs).then((outcome) => {
    if (outcome.kind !== "result") {
      request.respond(encodeReply(outcome));
      return;
    }
    let result: Uint8Array;
    try {
      if (codec === jsonCodec) {
        request.respond(encodeJsonResult(outcome.result));
        return;
      }
      result = codec.encode(outcome.result);
    } catch (error) {
      // Applied, but the reply cannot travel: a retry with the same command id answers "duplicate".
      const failure = {
        code: "ENCODE_FAILED",
        message: String(error),
        outcomeUnknown: true,
        retryable: false,
      };
      request.respond(encodeReply({ kind: "error", failure }));
      return;
    }
    request.respond(encodeReply({ kind: "result", result }));
  });
}
