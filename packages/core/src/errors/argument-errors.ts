// Errors of malformed arguments and invalid configuration.
import { ErrorCode, EventSourcedError } from "./base.js";

/** An argument was malformed: an empty id, an invalid type name, an empty event batch, a bad option. */
export class InvalidArgumentError extends EventSourcedError {
  static override readonly code: string = ErrorCode.InvalidArgument;
  declare readonly code: typeof ErrorCode.InvalidArgument;
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.InvalidArgument, message, options);
  }
}

/** Configuration is invalid; the message names the key and where it came from. */
export class ConfigurationError extends EventSourcedError {
  static override readonly code: string = ErrorCode.Configuration;
  declare readonly code: typeof ErrorCode.Configuration;
  constructor(
    message: string,
    readonly key: string,
    readonly source: string,
    options?: { cause?: unknown },
  ) {
    super(ErrorCode.Configuration, message, options);
  }
}
