// Errors of the entity registry: closed, or not hosting the id.
import { ErrorCode, EventSourcedError } from "./base.js";

/**
 * The entity registry was closed: the command was not handled (it never reached an entity, or reached one
 * only after it had stopped), so it had no effect.
 */
export class RegistryClosedError extends EventSourcedError {
  static override readonly code: string = ErrorCode.RegistryClosed;
  declare readonly code: typeof ErrorCode.RegistryClosed;
  constructor(
    readonly type: string,
    readonly id: string | undefined,
  ) {
    super(
      ErrorCode.RegistryClosed,
      id === undefined
        ? `the entity registry of ${type} is closed`
        : `the entity registry of ${type} is closed; the command for ${JSON.stringify(id)} had no effect`,
    );
  }
}

/**
 * The entity registry's `canHost` refused the id (in a cluster: this process does not own the id's shard),
 * so the entity was not spawned and the command had no effect. Send it to the owner instead.
 */
export class EntityNotHostedError extends EventSourcedError {
  static override readonly code: string = ErrorCode.EntityNotHosted;
  declare readonly code: typeof ErrorCode.EntityNotHosted;
  constructor(
    readonly type: string,
    readonly id: string,
  ) {
    super(
      ErrorCode.EntityNotHosted,
      `entity ${type}/${JSON.stringify(id)} is not hosted by this registry; the command had no effect`,
    );
  }
}
