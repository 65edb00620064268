import type { LogFields, Logger } from "@eventsourced/core";

/**
 * The counter's logger: warnings and errors on stderr, one line each, fields as `key=value` and an error as
 * its message (no stack): a run whose every counter fails the same way (the wrong binarizer for the stored
 * events, say) prints one readable line per counter, not a screen of stack traces. Debug lines are dropped.
 */
export const terminalLogger: Logger = {
  debug: () => {},
  warn: (message, fields) => write("WARN", message, fields),
  error: (message, fields) => write("ERROR", message, fields),
};

function write(level: string, message: string, fields: LogFields | undefined): void {
  const parts = Object.entries(fields ?? {}).map(([key, value]) => `${key}=${shown(value)}`);
  process.stderr.write(`[eventsourced] ${level} ${oneLine([message, ...parts].join(" "))}\n`);
}

function shown(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === "string") return JSON.stringify(value);
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) ?? String(value)
    );
  } catch {
    return String(value);
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}
