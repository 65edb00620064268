import { ConfigurationError } from "@eventsourced/core";

/** `major.minor.patch` of a server version string such as `"2.9.10"` or `"2.11.0-RC.1"`. */
export function parseServerVersion(
  version: string | undefined,
): readonly [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version ?? "");
  return match === null ? undefined : [Number(match[1]), Number(match[2]), Number(match[3])];
}

/**
 * Throws `ConfigurationError` naming `option` unless the server runs at least `min`. Older servers accept
 * the stream settings and headers of newer features and drop them without an error (verified on 2.9.10 for
 * per-key TTL and delete-marker TTL), so an option they cannot honour must be refused here.
 */
export function requireServerVersion(
  version: string | undefined,
  min: readonly [number, number, number],
  option: string,
  source: string,
): void {
  const have = parseServerVersion(version);
  const ok =
    have !== undefined &&
    (have[0] !== min[0] ? have[0] > min[0] : have[1] !== min[1] ? have[1] > min[1] : have[2] >= min[2]);
  if (!ok) {
    throw new ConfigurationError(
      `${option} needs NATS server ${min.join(".")} or newer; this server runs ${version ?? "an unknown version"}, ` +
        "which would accept the setting and silently ignore it",
      option,
      source,
    );
  }
}
