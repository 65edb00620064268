/** The prefix of env vars that override config keys: `APP__SECTION__KEY`. */
export const ENV_PREFIX = "APP__";

/**
 * Maps an env var name to a dotted config key: `APP__COUNTER__EVT_COUNT` → `counter.evtCount`
 * (`__` separates sections, `_` separates words of a camelCase key).
 */
export function envVarToKey(name: string): string {
  return name
    .slice(ENV_PREFIX.length)
    .split("__")
    .map((segment) =>
      segment
        .toLowerCase()
        .split("_")
        .map((word, i) => (i === 0 ? word : word.charAt(0).toUpperCase() + word.slice(1)))
        .join(""),
    )
    .join(".");
}

/** Maps a dotted config key to its env var: `counter.evtCount` → `APP__COUNTER__EVT_COUNT`. */
export function keyToEnvVar(key: string): string {
  return (
    ENV_PREFIX +
    key
      .split(".")
      .map((segment) => segment.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase())
      .join("__")
  );
}
