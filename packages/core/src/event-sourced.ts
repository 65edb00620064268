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
  /** Aborted when the caller gave up on the command (only while it is still being decided). */
  readonly signal: AbortSignal | undefined;
}

/** Accept the command by emitting events; the reply is computed from the state after them. */
export interface Emit<S, E, R> {
  readonly kind: "emit";
  readonly evts: readonly E[];
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
 * An entity type.
 * - `S` state, `C` command, `E` event, `R` reply of accepted commands, `J` rejection.
 */
export interface EventSourced<S, C, E, R = void, J = never> {
  /** The entity type name, e.g. `"counter"`: a letter, then letters, digits, `_` or `-`. */
  readonly typeName: string;
  /** The state of an entity that has no events yet. */
  initialState(id: string): S;
  /**
   * Decides what to do with a command given the current state: emit events, reply, or reject. May be
   * async; never persists anything itself. Throwing fails only this command.
   */
  handleCmd(state: S, cmd: C, ctx: CmdContext): Decision<S, E, R, J> | Promise<Decision<S, E, R, J>>;
  /** Folds one event into the state. Pure and synchronous. */
  handleEvt(state: S, evt: E, seqNo: number): S;
}

/**
 * Declares an entity type; an identity function that lets TypeScript infer `S, C, E, R, J` once.
 * @example
 * const counter = defineEntity({
 *   typeName: "counter",
 *   initialState: () => 0,
 *   handleCmd: (state: number, cmd: { inc: number }): Decision<number, { inc: number }, number, "overflow"> =>
 *     state + cmd.inc > 100 ? reject("overflow") : emitAndReply([{ inc: cmd.inc }], (s) => s),
 *   handleEvt: (state, evt) => state + evt.inc,
 * });
 */
export function defineEntity<S, C, E, R = void, J = never>(
  definition: EventSourced<S, C, E, R, J>,
): EventSourced<S, C, E, R, J> {
  return definition;
}

const noReply = (): void => undefined;

/** Accept by emitting one or more events; the command's reply is `undefined`. */
export function emit<E>(...evts: [E, ...E[]]): Emit<unknown, E, void> {
  return { kind: "emit", evts, reply: noReply };
}

/** Accept by emitting events and reply with a value computed from the state after them. */
export function emitAndReply<S, E, R>(
  evts: readonly [E, ...E[]],
  reply: (stateAfter: S) => R,
): Emit<S, E, R> {
  return { kind: "emit", evts, reply };
}

/** Accept without emitting (read-only command) and reply with `value`. */
export function reply<R>(value: R): Reply<R> {
  return { kind: "reply", reply: value };
}

/** Reject the command; nothing is persisted and the caller receives `rejection`. */
export function reject<J>(rejection: J): Reject<J> {
  return { kind: "reject", rejection };
}

/** What `EntityRef.handleCmd` resolves to: the command was accepted (with its reply) or rejected. */
export type CmdResult<R, J> =
  | { readonly kind: "accepted"; readonly reply: R; readonly seqNo: number }
  | { readonly kind: "rejected"; readonly rejection: J; readonly seqNo: number };
