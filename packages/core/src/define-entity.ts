import { InvalidArgumentError } from "./errors/index.js";
import type { CmdContext, CmdSpec, Decision, Emit, EventSourced, Reject, Reply } from "./event-sourced.js";

// `defineEntity`: writing a definition with its command, reply and rejection types inferred from the
// handlers (per-command or single-handler form), or given explicitly.

// biome-ignore lint/suspicious/noExplicitAny: matches any event, reply and rejection type when inferring them
type AnyDecision<S> = Decision<S, any, any, any>;

/**
 * A command handler as `defineEntity` infers it: the command parameter declares the command (its payload
 * in the per-command form), the return type gives its events, reply and rejection types.
 */
export type CmdHandler<S> = (
  state: S,
  cmd: never,
  ctx: CmdContext,
) => AnyDecision<S> | Promise<AnyDecision<S>>;

// biome-ignore lint/suspicious/noExplicitAny: any function, to read its parameter and return types
type AnyFunction = (...args: any[]) => any;
type DecisionOf<H> = H extends AnyFunction ? Awaited<ReturnType<H>> : never;
type ReplyOfDecision<D> =
  D extends Emit<infer _S, infer _E, infer R> ? R : D extends Reply<infer R> ? R : never;
type RejectionOfDecision<D> = D extends Reject<infer J> ? J : never;
type EvtOfDecision<D> = D extends Emit<infer _S, infer E, infer _R> ? E : never;
// biome-ignore lint/suspicious/noExplicitAny: reads the declared command parameter, whatever the state type
type CmdParamOf<H> = H extends (state: any, cmd: infer C, ...rest: any[]) => unknown
  ? unknown extends C
    ? object
    : C
  : never;

/** The events the handlers `H` emit (the event type when `handleEvt` does not declare one). */
export type EvtsOfHandlers<H> = { [K in keyof H]: EvtOfDecision<DecisionOf<H[K]>> }[keyof H];
/** The events the handler `H` emits. */
export type EvtsOfHandler<H> = EvtOfDecision<DecisionOf<H>>;

/**
 * Makes `defineEntity` fail, naming the culprits, when the handlers emit events that `handleEvt` does not
 * take (`Emitted` is not assignable to `E`).
 */
type EmitsOnly<Emitted, E> = [Emitted] extends [E]
  ? unknown
  : {
      readonly handleEvt: {
        readonly error: "handleCmd emits events handleEvt does not take";
        readonly emitted: Emitted;
      };
    };

/** The protocol of the per-command form: command `{ type: K, ...payload }` for each handler `K`. */
export type ProtocolOfHandlers<H> = {
  [K in keyof H & string]: CmdSpec<
    { readonly type: K } & Omit<CmdParamOf<H[K]>, "type">,
    ReplyOfDecision<DecisionOf<H[K]>>,
    RejectionOfDecision<DecisionOf<H[K]>>
  >;
}[keyof H & string];

/** The protocol of the single-handler form whose reply and rejection types are inferred from `handleCmd`. */
export type ProtocolOfHandler<H> = CmdSpec<
  CmdParamOf<H>,
  ReplyOfDecision<DecisionOf<H>>,
  RejectionOfDecision<DecisionOf<H>>
>;

/** A definition in the per-command form: one handler per command `type`. */
export interface PerCommandDefinition<S, E, H> {
  readonly typeName: string;
  /** The state of an entity that has no events yet. */
  initialState(id: string): S;
  /**
   * One handler per command, keyed by the command's `type`. Each handler's second parameter declares the
   * command's payload; its return type gives the command's reply and rejection types.
   */
  readonly commands: H;
  /** Folds one event into the state: pure and synchronous (see {@link EventSourced.handleEvt}). */
  handleEvt(state: S, evt: E, seqNo: number): S;
}

/** A definition in the single-handler form whose reply and rejection types are inferred. */
export interface SingleHandlerDefinition<S, E, H> {
  readonly typeName: string;
  /** The state of an entity that has no events yet. */
  initialState(id: string): S;
  /** Decides what to do with any command; its parameter and return types give the protocol. */
  readonly handleCmd: H;
  /** Folds one event into the state: pure and synchronous (see {@link EventSourced.handleEvt}). */
  handleEvt(state: S, evt: E, seqNo: number): S;
}

/** A definition in the single-handler form with explicitly given types. */
export interface TypedDefinition<S, C, E, R, J> {
  readonly typeName: string;
  /** The state of an entity that has no events yet. */
  initialState(id: string): S;
  /** Decides what to do with any command (see {@link EventSourced.handleCmd}). */
  handleCmd(state: S, cmd: C, ctx: CmdContext): Decision<S, E, R, J> | Promise<Decision<S, E, R, J>>;
  /** Folds one event into the state: pure and synchronous (see {@link EventSourced.handleEvt}). */
  handleEvt(state: S, evt: E, seqNo: number): S;
}

/**
 * Declares an entity type. Two forms:
 *
 * - **Per command** (`commands`): one handler per command `type`; each command gets its own reply and
 *   rejection type, inferred from its handler, so `ref.handleCmd({ type: "balance" })` resolves to the
 *   balance handler's reply type.
 * - **One handler** (`handleCmd`): every command shares one reply and one rejection type, inferred from
 *   `handleCmd`'s return type or given as type arguments `<State, Command, Event, Reply, Rejection>`.
 *
 * The event type is `handleEvt`'s parameter type when declared (emitted events are checked against it),
 * else the union of the events the handlers emit.
 * @example
 * const account = defineEntity({
 *   typeName: "account",
 *   initialState: () => ({ balance: 0 }),
 *   commands: {
 *     deposit: (_state, cmd: { amount: number }) =>
 *       cmd.amount <= 0 ? reject("non-positive-amount") : emit({ type: "deposited", amount: cmd.amount }),
 *     balance: (state) => reply(state.balance),
 *   },
 *   handleEvt: (state, evt: { type: "deposited"; amount: number }) => ({ balance: state.balance + evt.amount }),
 * });
 * // (await ref.handleCmd({ type: "balance" })).reply is a number; deposit's rejection is "non-positive-amount"
 */
export function defineEntity<
  S,
  const H extends Readonly<Record<string, CmdHandler<S>>>,
  E = EvtsOfHandlers<H>,
>(
  definition: PerCommandDefinition<S, E, H> & EmitsOnly<EvtsOfHandlers<H>, E>,
): EventSourced<S, E, ProtocolOfHandlers<H>>;
export function defineEntity<S, const H extends CmdHandler<S>, E = EvtsOfHandler<H>>(
  definition: SingleHandlerDefinition<S, E, H> & EmitsOnly<EvtsOfHandler<H>, E>,
): EventSourced<S, E, ProtocolOfHandler<H>>;
export function defineEntity<S, C, E, R = void, J = never>(
  definition: TypedDefinition<S, C, E, R, J>,
): EventSourced<S, E, CmdSpec<C, R, J>>;
export function defineEntity(
  definition:
    | PerCommandDefinition<unknown, unknown, Readonly<Record<string, CmdHandler<unknown>>>>
    | TypedDefinition<unknown, unknown, unknown, unknown, unknown>,
): EventSourced<unknown, unknown> {
  if (!("commands" in definition)) return definition;
  const { typeName, initialState, handleEvt, commands } = definition;
  return {
    typeName,
    initialState,
    handleEvt,
    handleCmd(state, cmd, ctx) {
      return handlerFor(typeName, commands, cmd)(state, cmd as never, ctx);
    },
  };
}

/** The handler of `cmd.type`; an unknown or missing type is the caller's error, never a prototype lookup. */
function handlerFor<H>(typeName: string, commands: Readonly<Record<string, H>>, cmd: unknown): H {
  const type = (cmd as { type?: unknown } | null | undefined)?.type;
  if (typeof type === "string" && Object.hasOwn(commands, type)) return commands[type]!;
  throw new InvalidArgumentError(
    `${typeName} has no handler for command type ${typeof type === "string" ? JSON.stringify(type) : String(type)}`,
  );
}
