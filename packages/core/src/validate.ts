import { InvalidArgumentError } from "./errors/index.js";
import { MAX_ID_BYTES, TYPE_NAME_PATTERN } from "./evt-log.js";

/**
 * Throws `InvalidArgumentError` naming the broken rule unless `type` is a valid entity type name
 * ({@link TYPE_NAME_PATTERN}) and `id` a valid entity id:
 *
 * - a non-empty string;
 * - well-formed Unicode: no lone UTF-16 surrogate (PostgreSQL would store it as U+FFFD, silently aliasing
 *   another entity);
 * - no NUL character (PostgreSQL text cannot hold it);
 * - at most {@link MAX_ID_BYTES} bytes of UTF-8 (longer ids cannot be indexed by every log).
 *
 * `Entity.spawn` and every adapter apply these rules, so an id that one log accepts, every log accepts.
 */
export function validateTypeAndId(type: string, id: string): void {
  if (typeof type !== "string" || !TYPE_NAME_PATTERN.test(type)) {
    throw new InvalidArgumentError(
      `invalid entity type name ${JSON.stringify(type)}: must match ${TYPE_NAME_PATTERN}`,
    );
  }
  validateId(id);
}

/** The id rules of {@link validateTypeAndId} alone. */
export function validateId(id: string): void {
  if (typeof id !== "string" || id.length === 0) {
    throw new InvalidArgumentError(`invalid entity id ${describe(id)}: must be a non-empty string`);
  }
  // Three bytes of UTF-8 per UTF-16 unit at most: short ids need no byte count.
  if (id.length * 3 > MAX_ID_BYTES && Buffer.byteLength(id, "utf8") > MAX_ID_BYTES) {
    throw new InvalidArgumentError(
      `invalid entity id ${describe(id)}: ${Buffer.byteLength(id, "utf8")} bytes of UTF-8, at most ${MAX_ID_BYTES} allowed`,
    );
  }
  if (!id.isWellFormed()) {
    throw new InvalidArgumentError(
      `invalid entity id ${describe(id)}: not well-formed Unicode (it contains a lone UTF-16 surrogate)`,
    );
  }
  if (id.includes("\0")) {
    throw new InvalidArgumentError(`invalid entity id ${describe(id)}: must not contain NUL (U+0000)`);
  }
}

/** The id for a message: JSON-quoted (so control characters show), cut short when long. */
function describe(id: unknown): string {
  if (typeof id !== "string") {
    if (Array.isArray(id)) return "an array";
    return typeof id === "object" && id !== null ? "an object" : String(id);
  }
  return id.length > 64
    ? `${JSON.stringify(id.slice(0, 64))}... (${id.length} characters)`
    : JSON.stringify(id);
}

/** The longest `timeoutMs`: a Node.js timer of more than 2^31 - 1 ms fires after 1 ms. */
const MAX_TIMEOUT_MS = 2_147_483_647;

/** Most UTF-16 code units in an idempotency key. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/**
 * Throws `InvalidArgumentError` unless `cmd` can be a command: anything but `null` and `undefined` (a
 * command handler would fail on them with a `TypeError` from deep inside).
 */
export function validateCmd(cmd: unknown): void {
  if (cmd === null || cmd === undefined) {
    throw new InvalidArgumentError(`the command must not be ${String(cmd)}`);
  }
}

/**
 * Throws `InvalidArgumentError` naming the option and its rule unless `options` are valid options of a
 * command (`EntityRef.handleCmd`, `EntityRegistry.send`), whatever the state of the entity:
 *
 * - `options`: undefined or an object;
 * - `timeoutMs`: a number from 0 to 2^31 - 1 (a Node.js timer's limit);
 * - `signal`: an `AbortSignal`;
 * - `idempotencyKey`: a string of 1 to {@link MAX_IDEMPOTENCY_KEY_LENGTH} characters, well-formed Unicode
 *   (a lone surrogate would be stored as U+FFFD, so two keys would alias) and without NUL (PostgreSQL
 *   cannot store it);
 * - `metadata`: undefined or event metadata ({@link validateEvtMetadata}). (Its header
 *   `es-idempotency-key`, which only `idempotencyKey` may set, is dropped when the events are prepared.)
 */
export function validateCmdOptions(options: unknown): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(`command options must be an object, got ${String(options)}`);
  }
  const { timeoutMs, signal, idempotencyKey, metadata } = options as Record<string, unknown>;
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== "number" || !(timeoutMs >= 0) || !(timeoutMs <= MAX_TIMEOUT_MS))
  ) {
    throw new InvalidArgumentError(
      `timeoutMs must be a number from 0 to ${MAX_TIMEOUT_MS} (a Node.js timer's limit), got ${describe(timeoutMs)}`,
    );
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`signal must be an AbortSignal, got ${describe(signal)}`);
  }
  if (idempotencyKey !== undefined) validateIdempotencyKey(idempotencyKey);
  if (metadata !== undefined) validateEvtMetadata(metadata, "metadata");
}

const METADATA_KEYS: ReadonlySet<string> = new Set(["correlationId", "causationId", "headers"]);

/**
 * Throws `InvalidArgumentError` naming the member and its rule unless `metadata` is valid `EvtMetadata`,
 * which every log stores alike:
 *
 * - a plain object with no members but `correlationId`, `causationId` and `headers` (a log with a schema,
 *   such as NATS's envelope, would drop any other);
 * - `correlationId` and `causationId`: undefined or strings;
 * - `headers`: undefined or a plain object whose values are strings;
 * - every string (header names too) well-formed Unicode (a lone surrogate would be stored as U+FFFD or
 *   refused by PostgreSQL's `jsonb`) and without NUL (which `jsonb` cannot hold).
 *
 * `where` names the metadata in the message: a label (`"metadata"`), or the index of the event in a persist
 * (`2` reads "event 2: metadata"). Entity commands
 * and every log's `persist` apply these rules, so bad metadata is refused at the call, before it joins a
 * batch whose other persists it would fail.
 */
export function validateEvtMetadata(metadata: unknown, where: string | number): void {
  if (!isPlainObject(metadata)) {
    throw new InvalidArgumentError(`${label(where)} must be a plain object, got ${describe(metadata)}`);
  }
  for (const key in metadata) {
    if (Object.hasOwn(metadata, key) && !METADATA_KEYS.has(key)) {
      throw new InvalidArgumentError(
        `${label(where)} has an unknown member ${describe(key)}: only correlationId, causationId and headers (put other values in headers)`,
      );
    }
  }
  const { correlationId, causationId, headers } = metadata;
  // Messages are built only on failure: this runs for every event a log persists.
  if (correlationId !== undefined) checkMetadataString(correlationId, where, ".correlationId");
  if (causationId !== undefined) checkMetadataString(causationId, where, ".causationId");
  if (headers === undefined) return;
  if (!isPlainObject(headers)) {
    throw new InvalidArgumentError(
      `${label(where)}.headers must be a plain object, got ${describe(headers)}`,
    );
  }
  for (const name in headers) {
    if (!Object.hasOwn(headers, name)) continue;
    if (!isMetadataString(name)) checkMetadataString(name, where, `.headers name ${describe(name)}`);
    const value = headers[name];
    if (!isMetadataString(value)) checkMetadataString(value, where, `.headers[${describe(name)}]`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** What `where` names in a message: a label, or the index of an event in a persist. */
function label(where: string | number): string {
  return typeof where === "number" ? `event ${where}: metadata` : where;
}

/** Whether `value` is a string every log stores as it is: well-formed, without NUL. */
function isMetadataString(value: unknown): value is string {
  return typeof value === "string" && value.isWellFormed() && !value.includes("\0");
}

/** Throws `InvalidArgumentError` (naming `where` + `member`) unless `value` is a metadata string. */
function checkMetadataString(value: unknown, where: string | number, member: string): void {
  if (isMetadataString(value)) return;
  const what = `${label(where)}${member}`;
  if (typeof value !== "string") {
    throw new InvalidArgumentError(`${what} must be a string, got ${describe(value)}`);
  }
  if (!value.isWellFormed()) {
    throw new InvalidArgumentError(
      `${what} is not well-formed Unicode (it contains a lone UTF-16 surrogate)`,
    );
  }
  throw new InvalidArgumentError(`${what} must not contain NUL (U+0000)`);
}

/**
 * Throws `InvalidArgumentError` unless `key` is a valid idempotency key (the `idempotencyKey` of a command):
 * a string of 1 to 256 characters, well-formed Unicode (a lone surrogate would be stored as U+FFFD, so two
 * keys would alias) and without NUL (PostgreSQL cannot store it).
 */
export function validateIdempotencyKey(key: unknown): asserts key is string {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new InvalidArgumentError(
      `idempotencyKey must be a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, got ${typeof key === "string" ? `${key.length} characters` : describe(key)}`,
    );
  }
  if (!key.isWellFormed()) {
    throw new InvalidArgumentError(
      `idempotencyKey ${describe(key)} is not well-formed Unicode (it contains a lone UTF-16 surrogate)`,
    );
  }
  if (key.includes("\0")) {
    throw new InvalidArgumentError(`idempotencyKey ${describe(key)} must not contain NUL (U+0000)`);
  }
}

/**
 * Throws `InvalidArgumentError` naming the member unless `definition` is an entity definition: an object
 * (as `defineEntity` returns) whose `initialState`, `handleCmd` and `handleEvt` are functions. Without this
 * check a definition from JavaScript with, say, `initialState: 0` would fail every recovery later with a
 * `RecoveryError` around a `TypeError`.
 */
export function validateDefinition(definition: unknown): void {
  if (typeof definition !== "object" || definition === null) {
    throw new InvalidArgumentError(
      `an entity definition must be an object (see defineEntity), got ${String(definition)}`,
    );
  }
  for (const member of ["initialState", "handleCmd", "handleEvt"] as const) {
    const value = (definition as Record<string, unknown>)[member];
    if (typeof value !== "function") {
      throw new InvalidArgumentError(
        `the entity definition's ${member} must be a function, got ${value === null ? "null" : typeof value}`,
      );
    }
  }
}

/**
 * Throws `InvalidArgumentError` unless `snapshot` can be stored alike by every snapshot store: `seqNo` a
 * safe integer >= 0, `bytes` a `Uint8Array`, `version` undefined or a non-empty string that is well-formed
 * Unicode without NUL (PostgreSQL text cannot hold NUL, and a lone surrogate stored as U+FFFD would alias
 * another version). `SnapshotStore.save` of every store applies it.
 */
export function validateSnapshot(snapshot: unknown): void {
  const { seqNo, bytes, version } = (snapshot ?? {}) as {
    seqNo?: unknown;
    bytes?: unknown;
    version?: unknown;
  };
  if (typeof snapshot !== "object" || snapshot === null) {
    throw new InvalidArgumentError(`invalid snapshot: must be an object, got ${describe(snapshot)}`);
  }
  if (!Number.isSafeInteger(seqNo) || (seqNo as number) < 0) {
    throw new InvalidArgumentError(`invalid snapshot seqNo ${String(seqNo)}: an integer >= 0`);
  }
  if (!(bytes instanceof Uint8Array)) {
    throw new InvalidArgumentError("invalid snapshot: bytes must be a Uint8Array");
  }
  if (version !== undefined) validateSnapshotVersion(version, "invalid snapshot: version");
}

/** Throws `InvalidArgumentError` (`what` first) unless `version` is a valid snapshot version. */
export function validateSnapshotVersion(version: unknown, what: string): void {
  if (typeof version !== "string" || version.length === 0) {
    throw new InvalidArgumentError(`${what} must be a non-empty string, got ${describe(version)}`);
  }
  if (!version.isWellFormed()) {
    throw new InvalidArgumentError(
      `${what} ${describe(version)} is not well-formed Unicode (a lone UTF-16 surrogate)`,
    );
  }
  if (version.includes("\0"))
    throw new InvalidArgumentError(`${what} ${describe(version)} must not contain NUL`);
}
