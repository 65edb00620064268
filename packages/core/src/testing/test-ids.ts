/** A unique entity type name per test, so tests never see each other's events. */
export function uniqueTypeName(prefix = "t"): string {
  return `${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** Ids that must stay distinct entities and must not be able to address each other's events. */
export const HOSTILE_IDS: readonly string[] = [
  "a",
  "a.b",
  "a.*",
  "*",
  ">",
  "a.>",
  "with space",
  "tab\there",
  "new\nline",
  "ünïcødé-日本-🎉",
  "%2E",
  "a/b\\c",
  "'; drop table x; --",
  "$",
  "_",
  "-",
  ".",
  "..",
];
