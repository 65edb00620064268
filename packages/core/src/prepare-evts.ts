import type { EntityConfig } from "./entity-config.js";
import { EncodeError, EvtHandlerError, InvalidArgumentError } from "./errors/index.js";
import type { CmdSpec, Decision, Emit } from "./event-sourced.js";
import type { EvtMetadata, NewEvt } from "./evt-log.js";
import { IDEMPOTENCY_KEY_HEADER } from "./idempotency-window.js";

/** A command's events, folded and encoded before anything is persisted. */
export interface Prepared<S> {
  readonly stateAfter: S;
  readonly reply: unknown;
  readonly evts: NewEvt[];
  /** The seqNo of the command's last tombstone event (see `RetentionPolicy.isTombstone`), if it emitted one. */
  readonly tombstoneSeqNo?: number | undefined;
}

function describe(type: string, id: string): string {
  return `${type}/${JSON.stringify(id)}`;
}

/** `metadata` without the idempotency key header (the same object when it has none). */
function withoutKeyHeader(metadata: EvtMetadata | undefined): EvtMetadata | undefined {
  const headers = metadata?.headers;
  if (headers === undefined || !Object.hasOwn(headers, IDEMPOTENCY_KEY_HEADER)) return metadata;
  const kept: Record<string, string> = {};
  for (const name of Object.keys(headers)) if (name !== IDEMPOTENCY_KEY_HEADER) kept[name] = headers[name]!;
  return { ...metadata, headers: kept };
}

/**
 * Guards against JavaScript callers (or casts) whose handleCmd returns something else, e.g. `undefined`,
 * or a hand-built decision of the wrong shape (an emit whose `evts` is not an array, or without a `reply`
 * function), which would otherwise be persisted character by character or fail with a `TypeError`.
 */
export function checkDecision(type: string, id: string, decision: unknown): void {
  const { kind, evts, reply } = (decision ?? {}) as { kind?: unknown; evts?: unknown; reply?: unknown };
  if (kind === "reply" || kind === "reject") return;
  if (kind === "emit" && Array.isArray(evts) && typeof reply === "function") return;
  const what =
    kind === "emit"
      ? `an emit decision whose ${Array.isArray(evts) ? "reply is not a function" : "evts is not an array"}`
      : String(decision);
  throw new InvalidArgumentError(
    `${describe(type, id)}: handleCmd returned ${what}, not emit(...), emitAndReply(...), reply(...) or reject(...)`,
  );
}

/**
 * Runs every piece of user code a command needs before its events may be persisted: folds the events into a
 * tentative state (`handleEvt`), computes the reply from it and encodes the events (the binarizer). Throws,
 * with nothing persisted, when any of that fails: `EvtHandlerError` (naming the would-be seqNo),
 * `EncodeError` (naming the event's index), whatever the reply function threw, or `InvalidArgumentError`
 * for a command that emitted no events. The idempotency key, if any, goes with the last event: its seqNo is
 * where the command ended up.
 */
export function prepareEvts<S, E, P extends CmdSpec>(
  config: EntityConfig<S, E, P>,
  id: string,
  decision: Decision<S, E, unknown, unknown> & { readonly kind: "emit" },
  state: S,
  seqNo: number,
  metadata: EvtMetadata | undefined,
  key: string | undefined,
): Prepared<S> {
  const { definition, binarizer, typeName } = config;
  const evts = (decision as Emit<S, E, unknown>).evts;
  if (evts.length === 0) {
    throw new InvalidArgumentError(
      `${describe(typeName, id)}: handleCmd emitted no events; use reply(...) for a read-only command`,
    );
  }
  let stateAfter = state;
  for (let i = 0; i < evts.length; i++) {
    try {
      stateAfter = definition.handleEvt(stateAfter, evts[i]!, seqNo + i + 1);
    } catch (cause) {
      throw new EvtHandlerError(typeName, id, seqNo + i + 1, { cause });
    }
  }
  const reply = (decision as Emit<S, E, unknown>).reply(stateAfter);
  const contentType = binarizer.contentType;
  // The key header is the runtime's: a caller's copy (forwarded from a stored event, or forged) is dropped,
  // or it would make a later command with that key a duplicate.
  const meta = withoutKeyHeader(metadata);
  const encoded = new Array<NewEvt>(evts.length);
  for (let i = 0; i < evts.length; i++) {
    let bytes: Uint8Array;
    try {
      bytes = binarizer.evtToBytes(evts[i]!);
    } catch (cause) {
      throw new EncodeError(typeName, id, i, { cause });
    }
    encoded[i] = meta === undefined ? { bytes, contentType } : { bytes, contentType, metadata: meta };
  }
  if (key !== undefined) {
    const last = encoded[encoded.length - 1]!;
    const headers = { ...last.metadata?.headers, [IDEMPOTENCY_KEY_HEADER]: key };
    encoded[encoded.length - 1] = { ...last, metadata: { ...last.metadata, headers } };
  }
  const { isTombstone } = config;
  if (isTombstone !== undefined) {
    for (let i = evts.length - 1; i >= 0; i--) {
      if (isTombstone(evts[i]!)) return { stateAfter, reply, evts: encoded, tombstoneSeqNo: seqNo + i + 1 };
    }
  }
  return { stateAfter, reply, evts: encoded };
}
