import { InvalidArgumentError } from "./errors/index.js";

const EVT_LOG_METHODS = ["persist", "lastSeqNo", "evtsById", "evtsByType"] as const;
const SNAPSHOT_STORE_METHODS = ["save", "load"] as const;
const BINARIZER_METHODS = ["evtToBytes", "evtFromBytes", "stateToBytes", "stateFromBytes"] as const;
const LOGGER_METHODS = ["debug", "warn", "error"] as const;

/**
 * Throws `InvalidArgumentError` naming the option unless each collaborator given in spawn options has the
 * shape it is used by, so that a JavaScript caller's (or a cast's) wrong value is refused at the call, not
 * reported later as a failed recovery, an undecodable event or a crash inside a background task:
 *
 * - `options`: an object; `evtLog`: an object with `persist`, `lastSeqNo`, `evtsById` and `evtsByType`;
 * - `snapshotStore`: undefined or an object with `save` and `load`;
 * - `binarizer`: undefined or an object with `evtToBytes`, `evtFromBytes`, `stateToBytes` and
 *   `stateFromBytes`, and a string `contentType`;
 * - `logger`: undefined or an object with `debug`, `warn` and `error`;
 * - `retryBackoff`, `idempotency`, `instrumentation`: undefined or objects; `freshReads`: undefined or a
 *   boolean.
 */
export function validateSpawnOptionShapes(options: unknown): void {
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(`spawn options must be an object, got ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  if (o.evtLog === undefined) throw new InvalidArgumentError("spawning an entity needs options.evtLog");
  requireMethods(o.evtLog, "evtLog", "an EvtLog", EVT_LOG_METHODS);
  if (o.snapshotStore !== undefined) {
    requireMethods(o.snapshotStore, "snapshotStore", "a SnapshotStore", SNAPSHOT_STORE_METHODS);
  }
  if (o.binarizer !== undefined) {
    requireMethods(o.binarizer, "binarizer", "a Binarizer", BINARIZER_METHODS);
    const { contentType } = o.binarizer as { contentType?: unknown };
    if (typeof contentType !== "string") {
      throw new InvalidArgumentError(`binarizer.contentType must be a string, got ${describe(contentType)}`);
    }
  }
  if (o.logger !== undefined) requireMethods(o.logger, "logger", "a Logger", LOGGER_METHODS);
  for (const name of ["retryBackoff", "idempotency", "instrumentation"] as const) {
    const value = o[name];
    if (value !== undefined && (typeof value !== "object" || value === null)) {
      throw new InvalidArgumentError(`${name} must be an object, got ${describe(value)}`);
    }
  }
  if (o.freshReads !== undefined && typeof o.freshReads !== "boolean") {
    throw new InvalidArgumentError(`freshReads must be a boolean, got ${describe(o.freshReads)}`);
  }
}

function requireMethods(value: unknown, name: string, what: string, methods: readonly string[]): void {
  if (typeof value !== "object" || value === null) {
    throw new InvalidArgumentError(`${name} must be ${what}, got ${describe(value)}`);
  }
  for (const method of methods) {
    if (typeof (value as Record<string, unknown>)[method] !== "function") {
      throw new InvalidArgumentError(`${name} is not ${what}: it has no ${method}() method`);
    }
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}
