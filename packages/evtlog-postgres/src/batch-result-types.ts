import type { PgResultLike } from "./pg-pool-like.js";

/** Type OIDs of `int4[]` and `int8[]`: the batch statement returns `won` as the first (integer arrays of either kind are parsed alike). */
const INT4_ARRAY = 1007;
const INT8_ARRAY = 1016;

/** A column parser, as `pg` looks them up. */
type TypeParser = (text: string) => unknown;

/** What `pg` accepts as a query's `types`. */
export interface QueryTypes {
  getTypeParser(oid: number, format?: string): TypeParser;
}

/** A `pg` client: it parses results with `getTypeParser` and takes `types` per query. */
export interface TypedQueryClient {
  getTypeParser(oid: number, format?: string): TypeParser;
  query(config: {
    readonly name?: string | undefined;
    readonly text: string;
    readonly values: unknown[];
    readonly types: QueryTypes;
    readonly query_timeout?: number | undefined;
  }): Promise<PgResultLike>;
}

/**
 * The elements of an integer array's text (`{1,2,3}`) as numbers, or what `fallback` makes of the text when
 * an element is not a safe integer (`NULL`, or an int8 beyond 2^53, which `pg` keeps as a string). `pg`'s own
 * array parser is general (quoting, nesting, NULL) and costs about 0.37 µs per persist on the `won` and
 * `positions` of a 1,000-persist batch; this one about 0.10 µs.
 */
export function parseIntArray(text: string, fallback: TypeParser): unknown {
  if (text === "{}") return [];
  const parts = text.slice(1, -1).split(",");
  const out = new Array<number>(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const n = Number(parts[i]);
    if (!Number.isSafeInteger(n) || parts[i] === "") return fallback(text);
    out[i] = n;
  }
  return out;
}

/**
 * The `types` under which `client` reads a batch result: integer arrays through {@link parseIntArray}, every
 * other type through the client's own parsers. Undefined for a client that is not `pg`'s (it parses as it
 * does).
 */
export function batchResultTypes(client: unknown): QueryTypes | undefined {
  if (typeof (client as Partial<TypedQueryClient>).getTypeParser !== "function") return undefined;
  const typed = client as TypedQueryClient;
  return {
    getTypeParser(oid, format) {
      const own = typed.getTypeParser(oid, format);
      if ((oid !== INT4_ARRAY && oid !== INT8_ARRAY) || (format ?? "text") !== "text") return own;
      return (text) => parseIntArray(text, own);
    },
  };
}
