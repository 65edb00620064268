/**
 * Internals shared with sibling packages, tests and benchmarks; not public API and may change in any
 * release. Left out of the API reference (`@internal`).
 * @module
 * @internal
 */
export { connectNats, describeServers, type NatsConnectOptions, reason, serverList } from "./connect-nats.js";
export { decodeEvtBatch, encodeEvtBatch } from "./envelope.js";
export { resumePoint, toPosition } from "./position.js";
export { provisionStream, resolveStreamOptions } from "./stream-provisioning.js";
export { readStream } from "./stream-reader.js";
