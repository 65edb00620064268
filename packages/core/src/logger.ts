/** Structured fields attached to a log line (type, id, error message, counts...). */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The logging hook of the runtime and the adapters. All three methods are required: the runtime calls
 * each of them (`warn` for a snapshot save or a re-read of the log that failed, `error` for an entity
 * that failed); implement one as `() => {}` to drop its lines, or pass {@link silentLogger}.
 *
 * Each method takes the message first and the fields second. pino and its relatives take them the other
 * way round (`log.warn(fields, message)`), so wrap such a logger instead of passing it directly.
 * @example
 * import pino from "pino";
 * const log = pino();
 * const logger: Logger = {
 *   debug: (message, fields) => log.debug(fields ?? {}, message),
 *   warn: (message, fields) => log.warn(fields ?? {}, message),
 *   error: (message, fields) => log.error(fields ?? {}, message),
 * };
 * // Entity.spawn(id, definition, { evtLog, logger })
 */
export interface Logger {
  /** Detail for troubleshooting; the default logger drops it. */
  debug(message: string, fields?: LogFields): void;
  /** Something failed and is being handled (retried, skipped, counted); no command was lost. */
  warn(message: string, fields?: LogFields): void;
  /** Something failed that needs attention, such as an entity that stopped serving. */
  error(message: string, fields?: LogFields): void;
}

/** Writes warnings and errors to `console.error`; drops debug lines. The default logger. */
export const consoleLogger: Logger = {
  debug: () => {},
  warn: (message, fields) => console.error(`[eventsourced] WARN ${message}`, fields ?? ""),
  error: (message, fields) => console.error(`[eventsourced] ERROR ${message}`, fields ?? ""),
};

/** Discards everything. */
export const silentLogger: Logger = { debug: () => {}, warn: () => {}, error: () => {} };

/**
 * `logger` with each method made unable to throw: the runtime logs from error paths and background tasks,
 * where a logging hook that throws (or a JavaScript object whose method is missing) would otherwise leave
 * an entity's bookkeeping half done. A line whose hook throws is dropped.
 */
export function guardedLogger(logger: Logger): Logger {
  const guard =
    (method: keyof Logger) =>
    (message: string, fields?: LogFields): void => {
      try {
        logger[method](message, fields);
      } catch {
        // Nothing to report it to: the hook that failed is the reporting channel.
      }
    };
  return { debug: guard("debug"), warn: guard("warn"), error: guard("error") };
}
