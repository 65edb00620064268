import { InvalidArgumentError } from "./errors.js";
import { TYPE_NAME_PATTERN } from "./evt-log.js";

/** Throws `InvalidArgumentError` unless `type` is a valid entity type name and `id` a non-empty string. */
export function validateTypeAndId(type: string, id: string): void {
  if (!TYPE_NAME_PATTERN.test(type)) {
    throw new InvalidArgumentError(
      `invalid entity type name ${JSON.stringify(type)}: must match ${TYPE_NAME_PATTERN}`,
    );
  }
  if (typeof id !== "string" || id.length === 0) {
    throw new InvalidArgumentError(`invalid entity id ${JSON.stringify(id)}: must be a non-empty string`);
  }
}
