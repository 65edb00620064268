import { EventSourcedError } from "@eventsourced/core";

/**
 * The command line itself is wrong: an unknown command or option, a missing or malformed argument, a
 * destructive command without `--yes`. Exit status 2, like a configuration error.
 */
export class CliUsageError extends EventSourcedError {
  static override readonly code: string = "CLI_USAGE";
  declare readonly code: "CLI_USAGE";
  constructor(message: string, options?: { cause?: unknown }) {
    super("CLI_USAGE", message, options);
  }
}

/**
 * The command was understood but cannot be done as asked: the schema is not set up, the projection or dead
 * letter does not exist, a projection must be paused first. Exit status 1; nothing was changed.
 */
export class AdminCommandError extends EventSourcedError {
  static override readonly code: string = "ADMIN_COMMAND_REFUSED";
  declare readonly code: "ADMIN_COMMAND_REFUSED";
  constructor(message: string, options?: { cause?: unknown }) {
    super("ADMIN_COMMAND_REFUSED", message, options);
  }
}
