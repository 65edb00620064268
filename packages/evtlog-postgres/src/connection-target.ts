/**
 * Names the server as `host:port/database` for error messages, never including credentials: a connection
 * string is parsed and only those three parts are kept. This is the only place the PostgreSQL packages
 * turn connection settings into text.
 *
 * With a pool passed in, the server is not known (the pool's settings are its own business), so the
 * target says so; the driver's error, kept as `cause`, names the address it tried.
 */
export function connectionTarget(connectionString: string | undefined, poolGiven = false): string {
  if (poolGiven) return "the pool passed in";
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
  const host = process.env.PGHOST ?? "localhost";
  const port = process.env.PGPORT ?? 5432;
  const database = process.env.PGDATABASE ?? "postgres";
  return `${host}:${port}/${database}`;
}
