import { InvalidArgumentError } from "@eventsourced/core";

/**
 * Schema and table names: a letter or `_`, then letters, digits or `_`, at most 48 characters (index and
 * constraint names derived from a table name must stay within PostgreSQL's 63-byte identifier limit).
 */
export const SQL_IDENTIFIER_PATTERN: RegExp = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/**
 * Validates `name` and returns it double-quoted. Names are validated as well as quoted so that a
 * configuration value can never smuggle SQL into the DDL, and quoted so that mixed case and reserved
 * words are taken literally.
 */
export function quoteIdentifier(name: string, what: string): string {
  if (typeof name !== "string" || !SQL_IDENTIFIER_PATTERN.test(name)) {
    throw new InvalidArgumentError(
      `invalid ${what} name ${JSON.stringify(name)}: must match ${SQL_IDENTIFIER_PATTERN}`,
    );
  }
  return `"${name}"`;
}

/** Names the log derives from a validated one (`<table>_streams`, an index): PostgreSQL's 63-byte limit. */
const DERIVED_IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Quotes a name derived from validated ones; throws if it would exceed PostgreSQL's identifier limit. */
export function quoteDerivedIdentifier(name: string): string {
  if (!DERIVED_IDENTIFIER_PATTERN.test(name)) {
    throw new InvalidArgumentError(`derived name ${JSON.stringify(name)} exceeds PostgreSQL's 63 bytes`);
  }
  return `"${name}"`;
}
