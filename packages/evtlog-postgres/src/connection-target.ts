import type { PgPoolLike } from "./pg-pool-like.js";

/**
 * Names the server as `host:port/database` for error messages, never including credentials: the
 * connection string is parsed and only those three parts are kept.
 */
export function connectionTarget(connectionString: string | undefined, pool?: PgPoolLike): string {
  if (connectionString !== undefined) {
    try {
      const url = new URL(connectionString);
      const host = url.searchParams.get("host") ?? (url.hostname || "localhost");
      const port = url.searchParams.get("port") ?? (url.port || "5432");
      const database =
        decodeURIComponent(url.pathname.replace(/^\//, "")) || decodeURIComponent(url.username) || "postgres";
      return `${host}:${port}/${database}`;
    } catch {
      // A libpq key=value string: pick the safe keys only.
      const pick = (key: string) => new RegExp(`(?:^|\\s)${key}=([^\\s]+)`).exec(connectionString)?.[1];
      return `${pick("host") ?? "localhost"}:${pick("port") ?? "5432"}/${pick("dbname") ?? "postgres"}`;
    }
  }
  const options = pool?.options;
  if (options?.connectionString !== undefined) return connectionTarget(options.connectionString);
  const host = options?.host ?? process.env.PGHOST ?? "localhost";
  const port = options?.port ?? process.env.PGPORT ?? 5432;
  const database = options?.database ?? process.env.PGDATABASE ?? "postgres";
  return `${host}:${port}/${database}`;
}
