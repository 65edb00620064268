// The event log

// Connecting
export { DEFAULT_NATS_URL, type NatsConnectOptions } from "./connect-nats.js";
// Listing entities (operators)
export type { EntityIdsOptions } from "./entity-ids.js";
export { Header } from "./envelope.js";
// Strict fencing: epoch markers
export type { NatsFence } from "./epoch-marker.js";
export { type FenceableNatsLog, FencedNatsEvtLog } from "./fenced-nats-evt-log.js";
// A request whose connection was lost (ADR 0143)
export { RequestLostError } from "./lost-requests.js";
export { NatsEvtLog, type NatsPersistOptions } from "./nats-evt-log.js";
export type { NatsEvtLogOptions } from "./nats-evt-log-options.js";
export { MAX_EVTS_PER_PERSIST } from "./position.js";
// The stream
export {
  lossyLimits,
  type NatsStreamOptions,
  StreamConfigError,
} from "./stream-provisioning.js";
// Subjects, positions and the message format (documented, stable)
export { decodeIdToken, encodeIdToken, MAX_ENCODED_ID_LENGTH, Subjects } from "./subjects.js";
