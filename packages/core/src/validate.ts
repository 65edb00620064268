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
  if (typeof id !== "string") return typeof id === "object" && id !== null ? "an object" : String(id);
  return id.length > 64
    ? `${JSON.stringify(id.slice(0, 64))}... (${id.length} characters)`
    : JSON.stringify(id);
}

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
 * - `timeoutMs`: a finite number >= 0;
 * - `signal`: an `AbortSignal`;
 * - `idempotencyKey`: a string of 1 to {@link MAX_IDEMPOTENCY_KEY_LENGTH} characters, well-formed Unicode
 *   (a lone surrogate would be stored as U+FFFD, so two keys would alias) and without NUL (PostgreSQL
 *   cannot store it);
 * - `metadata`: undefined or an object.
 */
export function validateCmdOptions(options: unknown): void {
  if (options === undefined) return;
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(`command options must be an object, got ${String(options)}`);
  }
  const { timeoutMs, signal, idempotencyKey, metadata } = options as Record<string, unknown>;
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== "number" || !(timeoutMs >= 0) || !Number.isFinite(timeoutMs))
  ) {
    throw new InvalidArgumentError(`timeoutMs must be a finite number >= 0, got ${describe(timeoutMs)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError(`signal must be an AbortSignal, got ${describe(signal)}`);
  }
  if (idempotencyKey !== undefined) validateIdempotencyKey(idempotencyKey);
  if (metadata !== undefined && (typeof metadata !== "object" || metadata === null)) {
    throw new InvalidArgumentError(`metadata must be an object, got ${describe(metadata)}`);
  }
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
