const SECRET_PARAMS = /^(password|pass|passwd|token|secret|sslkey|sslpassword)$/i;

/**
 * A URL safe to print: the password (and secret-looking query parameters) replaced by `***`. Text that
 * does not parse as a URL still has any `user:password@` part masked.
 * @example
 * redactUrl("postgres://app:s3cret@db:5432/app"); // "postgres://app:***@db:5432/app"
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    for (const name of [...parsed.searchParams.keys()]) {
      if (SECRET_PARAMS.test(name)) parsed.searchParams.set(name, "***");
    }
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, "//$1:***@");
  }
}
