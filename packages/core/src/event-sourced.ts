/**
 * Entity definitions: plain functions over immutable values. A definition is written once and spawned
 * many times (one actor per entity id) with `Entity.spawn`.
 */

/** What `handleCmd` sees besides the state and the command. */
export interface CmdContext {
  /** The entity's id. */
  readonly id: string;
  /** The seqNo of the last event applied to `state` (0 for a fresh entity). */
  readonly seqNo: number;
  /**
   * Aborted when the caller gave up on the command (its `signal` or `timeoutMs`) while it is still being
   * decided. From then on the command is abandoned: an asynchronous `handleCmd` may stop its work; what it
   * decides later is dropped.
   */
  readonly signal: AbortSignal | undefined;
}

/** Accept the command by emitting events; the reply is computed from the state after them. */
export interface Emit<S, E, R> {
  readonly kind: "emit";
  readonly evts: readonly E[];
  /** Computes the reply from the state after the events (folded before anything is persisted). */
  readonly reply: (stateAfter: S) => R;
}

/** Accept the command without emitting events (a read-only command). */
export interface Reply<R> {
  readonly kind: "reply";
  readonly reply: R;
}

/** Reject the command with a typed rejection; nothing is persisted. */
export interface Reject<J> {
  readonly kind: "reject";
  readonly rejection: J;
}

/** The outcome of `handleCmd`: build it with {@link emit}, {@link emitAndReply}, {@link reply} or {@link reject}. */
export type Decision<S, E, R, J> = Emit<S, E, R> | Reply<R> | Reject<J>;

/**
 * One kind of command with the reply it gets when accepted and the rejection it may get. An entity's
 * protocol is a union of these; `EntityRef.handleCmd` picks the member matching the command it is given,
 * so each command resolves to its own reply type.
 */
export interface CmdSpec<C = unknown, R = unknown, J = unknown> {
  readonly cmd: C;
  readonly reply: R;
  readonly rejection: J;
}

/**
 * An entity type, as the runtime sees it: `S` state, `E` event, `P` its protocol (a union of
 * {@link CmdSpec}s). Build one with {@link defineEntity}.
 */
export interface EventSourced<S, E, P extends CmdSpec = CmdSpec> {
  /** The entity type name, e.g. `"counter"`: a letter, then letters, digits, `_` or `-`. */
  readonly typeName: string;
  /** The state of an entity that has no events yet. */
  initialState(id: string): S;
  /**
   * Decides what to do with a command given the current state: emit events, reply, or reject. May be
   * async; never persists anything itself. Throwing fails only this command.
   */
  handleCmd(
    state: S,
    cmd: P["cmd"],
    ctx: CmdContext,
  ): Decision<S, E, P["reply"], P["rejection"]> | Promise<Decision<S, E, P["reply"], P["rejection"]>>;
  /** Folds one event into the state. Pure and synchronous; it runs before the events are persisted, too. */
  handleEvt(state: S, evt: E, seqNo: number): S;
}

/** The commands an entity with protocol `P` accepts. */
export type CmdOf<P extends CmdSpec> = P["cmd"];

/** The reply type of command `C` under protocol `P` (a union when `C` is a union of commands). */
export type ReplyOf<P extends CmdSpec, C> = C extends unknown
  ? P extends unknown
    ? C extends P["cmd"]
      ? P["reply"]
      : never
    : never
  : never;

/** The rejection type of command `C` under protocol `P`. */
export type RejectionOf<P extends CmdSpec, C> = C extends unknown
  ? P extends unknown
    ? C extends P["cmd"]
      ? P["rejection"]
      : never
    : never
  : never;

/** The protocol of a definition: `ProtocolOf<typeof account>`, e.g. for `EntityRef<ProtocolOf<typeof account>>`. */
export type ProtocolOf<D> = D extends EventSourced<infer _S, infer _E, infer P> ? P : never;
/** The state type of a definition. */
export type StateOf<D> = D extends EventSourced<infer S, infer _E, infer _P> ? S : never;
/** The event type of a definition. */
export type EvtOf<D> = D extends EventSourced<infer _S, infer E, infer _P> ? E : never;

const noReply = (): void => undefined;

/**
 * Accept by emitting one or more events; the command's reply is `undefined`. Usable in any entity: in the
 * per-command form the command's reply type is then `void`. Event literals keep their literal types.
 */
export function emit<const E>(...evts: [E, ...E[]]): Emit<unknown, E, void> {
  return { kind: "emit", evts, reply: noReply };
}

/** Accept by emitting events and reply with a value computed from the state after them. */
export function emitAndReply<S, const E, R>(
  evts: readonly [E, ...E[]],
  reply: (stateAfter: S) => R,
): Emit<S, E, R> {
  return { kind: "emit", evts, reply };
}

/** Accept without emitting (read-only command) and reply with `value`. */
export function reply<const R>(value: R): Reply<R> {
  return { kind: "reply", reply: value };
}

/** Reject the command; nothing is persisted and the caller receives `rejection`. */
export function reject<const J>(rejection: J): Reject<J> {
  return { kind: "reject", rejection };
}

/**
 * What `EntityRef.handleCmd` resolves to: the command was accepted (with its reply) or rejected.
 *
 * `seqNo` is the entity's last seqNo after the command. `position` is the log position of the last event
 * the command emitted (undefined when it emitted none): wait for a projection to reach it to read your own
 * writes.
 */
export type CmdResult<R, J> =
  | {
      readonly kind: "accepted";
      readonly reply: R;
      readonly seqNo: number;
      readonly position: number | undefined;
    }
  | { readonly kind: "rejected"; readonly rejection: J; readonly seqNo: number };
