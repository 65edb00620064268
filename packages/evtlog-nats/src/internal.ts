/**
 * Internals shared with sibling packages (the NATS KV snapshot store, leases), tests and benchmarks; not
 * public API and may change in any release. Left out of the API reference (`@internal`).
 * @module
 * @internal
 */
export { closeTimeoutOption, DEFAULT_CLOSE_TIMEOUT_MS, drainOrClose } from "./close-connection.js";
export {
  connectNats,
  describeServers,
  type NatsConnectOptions,
  natsTarget,
  reason,
  serverList,
  setupError,
} from "./connect-nats.js";
export { decodeEvtBatch } from "./envelope-decode.js";
export { encodeEvtBatch } from "./envelope-encode.js";
export { ApiCode, isWrongLastSequence, jetStreamApiCode } from "./jetstream-api-codes.js";
export { failLostRequests, isReadRequest } from "./lost-requests.js";
export { resumePoint, toPosition } from "./position.js";
export { classifyPublishFailure, type PublishFailure } from "./publish-failure.js";
export { NAME_PATTERN, provisionStream, resolveStreamOptions } from "./stream-provisioning.js";
export { readStream } from "./stream-reader.js";
