import { expect } from "vitest";
import type { EventSourced } from "../event-sourced.js";

/** What `handleCmd` decided for the command under test, computed without any log. */
export type Outcome<_S, E, R, J> =
  | { readonly kind: "emitted"; readonly evts: readonly E[]; readonly reply: R }
  | { readonly kind: "replied"; readonly reply: R }
  | { readonly kind: "rejected"; readonly rejection: J }
  | { readonly kind: "threw"; readonly error: unknown };

function describe(outcome: Outcome<unknown, unknown, unknown, unknown>): string {
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

/** The result of {@link Given.when}: assertions (vitest `expect`) chain and return `this`. */
export class Then<S, E, R, J> {
  constructor(
    /** What `handleCmd` decided. */
    readonly outcome: Outcome<S, E, R, J>,
    /** The state after the emitted events (the given state otherwise). */
    readonly state: S,
    /** The seqNo after the emitted events. */
    readonly seqNo: number,
  ) {}

  /** Asserts that the command was accepted by emitting exactly `expected` (deep equality). */
  thenEvents(expected: readonly E[]): this {
    const { outcome } = this;
    expect(outcome.kind, `expected events, but the command ${describe(outcome)}`).toBe("emitted");
    if (outcome.kind === "emitted") expect(outcome.evts).toEqual(expected);
    return this;
  }

  /** Asserts that the command was accepted (with or without events) and replied `expected`. */
  thenReply(expected: R): this {
    const { outcome } = this;
    expect(
      outcome.kind === "emitted" || outcome.kind === "replied",
      `expected a reply, but the command ${describe(outcome)}`,
    ).toBe(true);
    if (outcome.kind === "emitted" || outcome.kind === "replied") expect(outcome.reply).toEqual(expected);
    return this;
  }

  /** Asserts that the command was rejected with `expected`. */
  thenRejected(expected: J): this {
    const { outcome } = this;
    expect(outcome.kind, `expected a rejection, but the command ${describe(outcome)}`).toBe("rejected");
    if (outcome.kind === "rejected") expect(outcome.rejection).toEqual(expected);
    return this;
  }

  /**
   * Asserts that `handleCmd` threw; `expected` is what vitest's `toThrow` accepts (message substring,
   * RegExp, error class or instance).
   */
  thenThrows(expected?: string | RegExp | Error | (new (...args: never[]) => Error)): this {
    const { outcome } = this;
    expect(outcome.kind, `expected handleCmd to throw, but the command ${describe(outcome)}`).toBe("threw");
    if (outcome.kind === "threw") {
      const error = outcome.error;
      expect(() => {
        throw error;
      }).toThrow(expected);
    }
    return this;
  }

  /** Asserts the state after the command's events (deep equality). */
  thenState(expected: S): this {
    expect(this.state).toEqual(expected);
    return this;
  }
}

/** An entity definition with a history, ready for a command. Build it with {@link given}. */
export class Given<S, C, E, R, J> {
  /** The state after folding the given events. */
  readonly state: S;
  /** The number of given events. */
  readonly seqNo: number;
  readonly #definition: EventSourced<S, C, E, R, J>;
  readonly #id: string;

  constructor(definition: EventSourced<S, C, E, R, J>, evts: readonly E[], id: string) {
    this.#definition = definition;
    this.#id = id;
    let state = definition.initialState(id);
    evts.forEach((evt, i) => {
      state = definition.handleEvt(state, evt, i + 1);
    });
    this.state = state;
    this.seqNo = evts.length;
  }

  /** Runs `handleCmd` on the given state (and `handleEvt` on what it emits); never touches a log. */
  async when(cmd: C): Promise<Then<S, E, R, J>> {
    const definition = this.#definition;
    const { state, seqNo } = this;
    let decision: Awaited<ReturnType<typeof definition.handleCmd>>;
    try {
      decision = await definition.handleCmd(state, cmd, { id: this.#id, seqNo, signal: undefined });
    } catch (error) {
      return new Then<S, E, R, J>({ kind: "threw", error }, state, seqNo);
    }
    switch (decision.kind) {
      case "reply":
        return new Then<S, E, R, J>({ kind: "replied", reply: decision.reply }, state, seqNo);
      case "reject":
        return new Then<S, E, R, J>({ kind: "rejected", rejection: decision.rejection }, state, seqNo);
      case "emit": {
        let after = state;
        decision.evts.forEach((evt, i) => {
          after = definition.handleEvt(after, evt, seqNo + i + 1);
        });
        const outcome = { kind: "emitted", evts: decision.evts, reply: decision.reply(after) } as const;
        return new Then<S, E, R, J>(outcome, after, seqNo + decision.evts.length);
      }
    }
  }
}

/**
 * Tests an entity definition as pure functions: given past events, when a command, then events, a reply,
 * a rejection or a thrown error. Uses vitest's `expect`.
 * @example
 * (await given(counter, [{ inc: 2 }]).when({ inc: 3 })).thenEvents([{ inc: 3 }]).thenReply(5);
 * (await given(counter, [{ inc: 99 }]).when({ inc: 3 })).thenRejected("overflow");
 */
export function given<S, C, E, R, J>(
  definition: EventSourced<S, C, E, R, J>,
  evts: readonly E[] = [],
  options: { readonly id?: string } = {},
): Given<S, C, E, R, J> {
  return new Given(definition, evts, options.id ?? "given-id");
}
