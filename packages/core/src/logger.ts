/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/** The logging hook. Plug in pino, winston or console; every method is optional to implement as a no-op. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
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
