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
      const database = decoded(url.pathname.replace(/^\//, "")) || decoded(url.username) || "postgres";
      return `${host}:${port}/${database}`;
    } catch {
      // A libpq key=value string: pick the safe keys only.
      const pick = (key: string) => new RegExp(`(?:^|\\s)${key}=([^\\s]+)`).exec(connectionString)?.[1];
      const [host, port, database] = [pick("host"), pick("port"), pick("dbname")];
      // Neither a URL nor key=value pairs: the driver reads it in its own way; say so rather than guess.
      if (host === undefined && port === undefined && database === undefined) {
        return "a connection string that is not a URL";
      }
      return `${host ?? "localhost"}:${port ?? "5432"}/${database ?? "postgres"}`;
    }
  }
  const host = process.env.PGHOST ?? "localhost";
  const port = process.env.PGPORT ?? 5432;
  const database = process.env.PGDATABASE ?? "postgres";
  return `${host}:${port}/${database}`;
}

/** `text` with its percent escapes decoded, or as it is when they are malformed (`%zz`). */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
