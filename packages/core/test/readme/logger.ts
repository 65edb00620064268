// "Logging" in packages/core/README.md, verbatim between the region markers; ../readme-example.test.ts
// runs it against a logger with pino's signatures.
// #region pino
import type { Logger } from "@eventsourced/core";

/** pino's logging methods (and those of its relatives): the fields first, then the message. */
interface PinoLike {
  debug(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Adapts a pino logger: `Entity.spawn(id, definition, { evtLog, logger: fromPino(pino()) })`. */
export function fromPino(log: PinoLike): Logger {
  return {
    debug: (message, fields) => log.debug(fields ?? {}, message),
    warn: (message, fields) => log.warn(fields ?? {}, message),
    error: (message, fields) => log.error(fields ?? {}, message),
  };
}
// #endregion pino
