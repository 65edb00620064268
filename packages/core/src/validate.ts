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
  if (typeof id !== "string") return String(id);
  return id.length > 64
    ? `${JSON.stringify(id.slice(0, 64))}... (${id.length} characters)`
    : JSON.stringify(id);
}
