/**
 * The session settings a pool this package creates sends on each new connection (ADR 0145), so that the
 * *server* finds a client that is gone and ends its session, and with it a session-level log lock
 * (ADR 0108) the session may still hold, instead of waiting for its own TCP to give up (about 2 h idle, about
 * 15 min with data unacknowledged, by the kernel's defaults):
 *
 * - `tcp_keepalives_idle` 10 s, `tcp_keepalives_interval` 5 s, `tcp_keepalives_count` 4: an idle session
 *   whose client is gone (partitioned, its host dead) ends about 30 s after it last heard from it.
 * - `tcp_user_timeout` 30 s: the same bound when the server has sent something (a result, an error, a
 *   notification) that stays unacknowledged, where keepalive does not probe. 30 s is the default
 *   `queryTimeoutMs` (ADR 0140): by then the client has given up on the session too.
 * - `client_connection_check_interval` 2 s: a statement still running or waiting (for the log lock) whose
 *   client has gone is cancelled within 2 s of the server's socket learning so, instead of running on and
 *   committing long after its persists failed with an unknown outcome.
 *
 * Only the settings the server knows are set (`client_connection_check_interval` is PostgreSQL 14+), in one
 * statement. Each is a user-level setting (`SET` needs no privilege).
 */
export const SERVER_KEEPALIVE_SETTINGS: Readonly<Record<string, string>> = {
  tcp_keepalives_idle: "10",
  tcp_keepalives_interval: "5",
  tcp_keepalives_count: "4",
  tcp_user_timeout: "30000",
  client_connection_check_interval: "2000",
};

/**
 * The one statement that applies {@link SERVER_KEEPALIVE_SETTINGS} to the session (one round trip). A setting
 * the server does not know is skipped (`current_setting(name, true)` is null); filtering through
 * `pg_settings` instead cost several times as much (about 0.8 ms against 0.2 ms, ADR 0145).
 */
export const SERVER_KEEPALIVE_SQL: string = `SELECT set_config(v.name, v.setting, false)
FROM (VALUES ${Object.entries(SERVER_KEEPALIVE_SETTINGS)
  .map(([name, setting]) => `('${name}', '${setting}')`)
  .join(", ")}) AS v(name, setting)
WHERE current_setting(v.name, true) IS NOT NULL`;
