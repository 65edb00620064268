import { AssertionError, deepStrictEqual, throws } from "node:assert/strict";
import { InvalidArgumentError } from "../errors/index.js";
import type { CmdOf, CmdSpec, EventSourced, RejectionOf, ReplyOf } from "../event-sourced.js";
import { validateDefinition } from "../validate.js";

/** What `handleCmd` decided for the command under test, computed without any log. */
export type Outcome<E, R, J> =
  | { readonly kind: "emitted"; readonly evts: readonly E[]; readonly reply: R }
  | { readonly kind: "replied"; readonly reply: R }
  | { readonly kind: "rejected"; readonly rejection: J }
  | { readonly kind: "threw"; readonly error: unknown };

function describe(outcome: Outcome<unknown, unknown, unknown>): string {
  switch (outcome.kind) {
    case "emitted":
      return `emitted ${JSON.stringify(outcome.evts, bigintSafe)}`;
    case "replied":
      return `replied ${JSON.stringify(outcome.reply, bigintSafe)} without emitting`;
    case "rejected":
      return `rejected with ${JSON.stringify(outcome.rejection, bigintSafe)}`;
    case "threw":
      return `threw ${String(outcome.error)}`;
  }
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? `${value}n` : value;
}

function fail(message: string): never {
  throw new AssertionError({ message });
}

/**
 * The result of {@link Given.when}: the outcome, the state after it, and assertions that chain (each
 * returns `this`). Assertions throw `node:assert`'s `AssertionError`, which every test runner reports with
 * a diff; no test framework is needed.
 */
export class Then<S, E, R, J> {
  constructor(
    /** What `handleCmd` decided. */
    readonly outcome: Outcome<E, R, J>,
    /** The state after the emitted events (the given state otherwise). */
    readonly state: S,
    /** The seqNo after the emitted events. */
    readonly seqNo: number,
  ) {}

  /** Asserts that the command was accepted by emitting exactly `expected` (deep equality). */
  thenEvents(expected: readonly E[]): this {
    const { outcome } = this;
    if (outcome.kind !== "emitted") fail(`expected events, but the command ${describe(outcome)}`);
    deepStrictEqual(outcome.evts, expected);
    return this;
  }

  /** Asserts that the command was accepted (with or without events) and replied `expected`. */
  thenReply(expected: R): this {
    const { outcome } = this;
    if (outcome.kind !== "emitted" && outcome.kind !== "replied") {
      fail(`expected a reply, but the command ${describe(outcome)}`);
    }
    deepStrictEqual(outcome.reply, expected);
    return this;
  }

  /** Asserts that the command was rejected with `expected`. */
  thenRejected(expected: J): this {
    const { outcome } = this;
    if (outcome.kind !== "rejected") fail(`expected a rejection, but the command ${describe(outcome)}`);
    deepStrictEqual(outcome.rejection, expected);
    return this;
  }

  /**
   * Asserts that the command failed (`handleCmd` threw, or `handleEvt` threw on its events); `expected`
   * is a message substring, a RegExp, or an error class.
   */
  thenThrows(expected?: string | RegExp | (new (...args: never[]) => Error)): this {
    const { outcome } = this;
    if (outcome.kind !== "threw") fail(`expected the command to throw, but it ${describe(outcome)}`);
    if (expected === undefined) return this;
    const rethrow = () => {
      throw outcome.error;
    };
    if (typeof expected === "string") {
      const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
      if (!message.includes(expected))
        fail(`expected an error containing ${JSON.stringify(expected)}, got ${JSON.stringify(message)}`);
    } else {
      throws(rethrow, expected);
    }
    return this;
  }

  /** Asserts the state after the command's events (deep equality). */
  thenState(expected: S): this {
    deepStrictEqual(this.state, expected);
    return this;
  }
}

/**
 * Freezes `value` and every plain object and array in it (not class instances, Maps or Sets, which freezing
 * cannot protect or would break), so that a handler that changes them in place throws a `TypeError`
 * instead of passing its tests and corrupting live state in production.
 */
function deepFreeze<T>(value: T, seen = new Set<unknown>()): T {
  if (typeof value !== "object" || value === null || seen.has(value)) return value;
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key], seen);
  return Object.freeze(value);
}

/** Options of {@link given}. */
export interface GivenOptions {
  /** The entity's id handed to `initialState` and `handleCmd` (default `"given-id"`). */
  readonly id?: string;
  /**
   * Freeze every state and event handed to the handlers (plain objects and arrays, deeply; the given events
   * themselves too), so that an in-place change throws a `TypeError` in the test (default true). The runtime cannot afford the check:
   * a handler that changes the state it was given and then throws or rejects would leave the live entity
   * changed without any event.
   */
  readonly freeze?: boolean;
}

/** An entity definition with a history, ready for a command. Build it with {@link given}. */
export class Given<S, E, P extends CmdSpec> {
  /** The state after folding the given events. */
  readonly state: S;
  /** The number of given events. */
  readonly seqNo: number;
  readonly #definition: EventSourced<S, E, P>;
  readonly #id: string;
  readonly #freeze: <T>(value: T) => T;

  constructor(definition: EventSourced<S, E, P>, evts: readonly E[], id: string, freeze = true) {
    this.#definition = definition;
    this.#id = id;
    this.#freeze = freeze ? (value) => deepFreeze(value) : (value) => value;
    let state = this.#freeze(definition.initialState(id));
    evts.forEach((evt, i) => {
      state = this.#freeze(definition.handleEvt(state, this.#freeze(evt), i + 1));
    });
    this.state = state;
    this.seqNo = evts.length;
  }

  /**
   * Runs `handleCmd` on the given state, and `handleEvt` on what it emits, exactly as the runtime does
   * before persisting; never touches a log. States and events are frozen unless `given` was told
   * `freeze: false`: a handler that changes them in place throws (outcome `threw`).
   */
  async when<C extends CmdOf<P>>(cmd: C): Promise<Then<S, E, ReplyOf<P, C>, RejectionOf<P, C>>> {
    type T = Then<S, E, ReplyOf<P, C>, RejectionOf<P, C>>;
    const definition = this.#definition;
    const { state, seqNo } = this;
    try {
      const decision = await definition.handleCmd(state, cmd, { id: this.#id, seqNo, signal: undefined });
      switch (decision.kind) {
        case "reply":
          return new Then({ kind: "replied", reply: decision.reply }, state, seqNo) as T;
        case "reject":
          return new Then({ kind: "rejected", rejection: decision.rejection }, state, seqNo) as T;
        case "emit": {
          let after = state;
          decision.evts.forEach((evt, i) => {
            after = this.#freeze(definition.handleEvt(after, this.#freeze(evt), seqNo + i + 1));
          });
          const outcome = { kind: "emitted", evts: decision.evts, reply: decision.reply(after) } as const;
          return new Then(outcome, after, seqNo + decision.evts.length) as T;
        }
      }
    } catch (error) {
      return new Then({ kind: "threw", error }, state, seqNo) as T;
    }
  }
}

/**
 * Tests an entity definition as pure functions: given past events, when a command, then events, a reply,
 * a rejection or a thrown error. Needs no test framework (assertions throw `AssertionError`). States and
 * events are deeply frozen (see {@link GivenOptions.freeze}), so a handler that mutates them fails its test.
 * @example
 * (await given(counter, [{ type: "increased", by: 2 }]).when({ type: "inc", by: 3 }))
 *   .thenEvents([{ type: "increased", by: 3 }])
 *   .thenReply(5);
 */
export function given<S, E, P extends CmdSpec>(
  definition: EventSourced<S, E, P>,
  evts: readonly E[] = [],
  options: GivenOptions = {},
): Given<S, E, P> {
  validateDefinition(definition);
  if (!Array.isArray(evts)) {
    throw new InvalidArgumentError(
      `given(definition, evts): evts must be an array of events, got ${typeof evts}`,
    );
  }
  if (typeof options !== "object" || options === null) {
    throw new InvalidArgumentError(
      `given(definition, evts, options): options must be an object, got ${options}`,
    );
  }
  if (options.id !== undefined && typeof options.id !== "string") {
    throw new InvalidArgumentError(`given(...): options.id must be a string, got ${typeof options.id}`);
  }
  if (options.freeze !== undefined && typeof options.freeze !== "boolean") {
    throw new InvalidArgumentError(
      `given(...): options.freeze must be a boolean, got ${typeof options.freeze}`,
    );
  }
  return new Given(definition, evts, options.id ?? "given-id", options.freeze ?? true);
}
