import {
  type CmdResult,
  type Decision,
  defineEntity,
  Entity,
  type EntityRef,
  type EvtOf,
  emit,
  emitAndReply,
  type ProtocolOf,
  reject,
  reply,
} from "@eventsourced/core";
import { given, InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, expectTypeOf, it } from "vitest";
import { type CounterCmd, type CounterRejection, counter } from "./fixtures.js";

type AccountEvt =
  | { readonly type: "deposited"; readonly amount: number }
  | { readonly type: "withdrawn"; readonly amount: number };
interface Account {
  readonly balance: number;
}

/** The per-command form: every command has its own reply and rejection type; nothing is annotated twice. */
const account = defineEntity({
  typeName: "account",
  initialState: (): Account => ({ balance: 0 }),
  commands: {
    deposit: (_state, cmd: { amount: number }) =>
      cmd.amount <= 0 ? reject("non-positive-amount") : emit({ type: "deposited", amount: cmd.amount }),
    withdraw: (state, cmd: { amount: number }) =>
      cmd.amount > state.balance
        ? reject({ reason: "insufficient-funds", balance: state.balance })
        : emitAndReply([{ type: "withdrawn", amount: cmd.amount }], (after: Account) => after.balance),
    balance: (state) => reply(state.balance),
  },
  handleEvt: (state, evt: AccountEvt): Account => ({
    balance: evt.type === "deposited" ? state.balance + evt.amount : state.balance - evt.amount,
  }),
});

describe("types", () => {
  it("single-handler form: reply and rejection types flow from the definition without casts", async () => {
    const ref = await Entity.spawn("c1", counter, { evtLog: new InMemoryEvtLog() });
    expectTypeOf(ref).toEqualTypeOf<EntityRef<ProtocolOf<typeof counter>>>();
    const result = await ref.handleCmd({ type: "inc", by: 1 });
    expectTypeOf(result).toEqualTypeOf<CmdResult<number, CounterRejection>>();
    if (result.kind === "accepted") expectTypeOf(result.reply).toEqualTypeOf<number>();
    else expectTypeOf(result.rejection).toEqualTypeOf<CounterRejection>();
    // A command typed as the whole union gets the one reply type, too.
    const cmd: CounterCmd = { type: "get" };
    expectTypeOf(await ref.handleCmd(cmd)).toEqualTypeOf<CmdResult<number, CounterRejection>>();
    // Compiled, never called:
    const _notACommand = () =>
      // @ts-expect-error: not a command of the counter
      ref.handleCmd({ type: "reset" });
    await ref.stop();
  });

  it("per-command form: each command resolves to its own reply and rejection type", async () => {
    const ref = await Entity.spawn("a1", account, { evtLog: new InMemoryEvtLog() });
    const deposited = await ref.handleCmd({ type: "deposit", amount: 100 });
    expectTypeOf(deposited).toEqualTypeOf<CmdResult<void, "non-positive-amount">>();
    const balance = await ref.handleCmd({ type: "balance" });
    expectTypeOf(balance).toEqualTypeOf<CmdResult<number, never>>();
    const withdrawn = await ref.handleCmd({ type: "withdraw", amount: 30 });
    expectTypeOf(withdrawn).toEqualTypeOf<
      CmdResult<number, { readonly reason: "insufficient-funds"; readonly balance: number }>
    >();
    expect(balance).toMatchObject({ kind: "accepted", reply: 100, seqNo: 1, position: undefined });
    expect(withdrawn).toMatchObject({ kind: "accepted", reply: 70, seqNo: 2 });
    const refused = await ref.handleCmd({ type: "withdraw", amount: 1_000 });
    if (refused.kind === "rejected") expect(refused.rejection.balance).toBe(70);
    else expect.unreachable();

    const _checks = () => {
      // @ts-expect-error: the deposit command needs its amount
      ref.handleCmd({ type: "deposit" });
      // @ts-expect-error: no such command
      ref.handleCmd({ type: "close" });
      // @ts-expect-error: the amount is a number
      ref.handleCmd({ type: "deposit", amount: "100" });
    };
    await ref.stop();
  });

  it("per-command form: an unknown command type from untyped code is an InvalidArgumentError, not a crash", async () => {
    const ref = await Entity.spawn("a2", account, { evtLog: new InMemoryEvtLog() });
    const untyped = ref as unknown as { handleCmd(cmd: unknown): Promise<unknown> };
    for (const cmd of [{ type: "toString" }, { type: "__proto__" }, { amount: 1 }, null, "deposit"]) {
      await expect(untyped.handleCmd(cmd)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    }
    expect((await ref.handleCmd({ type: "balance" })).kind).toBe("accepted");
    await ref.stop();
  });

  it("emit works in an entity whose other commands reply with values", async () => {
    // `emit` (reply void) beside `reply(number)` in one single-handler definition: the reply type is the union.
    const mixed = defineEntity({
      typeName: "mixed",
      initialState: () => 0,
      handleCmd: (state: number, cmd: { readonly type: "bump" } | { readonly type: "read" }) =>
        cmd.type === "read" ? reply(state) : emit({ type: "bumped" }),
      handleEvt: (state: number, _evt: { readonly type: "bumped" }) => state + 1,
    });
    const ref = await Entity.spawn("m1", mixed, { evtLog: new InMemoryEvtLog() });
    // biome-ignore lint/suspicious/noConfusingVoidType: emit's reply type is void, beside reply's number
    expectTypeOf(await ref.handleCmd({ type: "bump" })).toEqualTypeOf<CmdResult<number | void, never>>();
    expect(await ref.handleCmd({ type: "read" })).toMatchObject({ reply: 1 });
    await ref.stop();
  });

  it("unannotated definitions compile: event literals keep their literal types", () => {
    // Neither the events nor handleEvt's parameter are annotated: the event type is what handleCmd emits.
    const tally = defineEntity({
      typeName: "tally",
      initialState: () => ({ n: 0 }),
      handleCmd: (_state: { n: number }, cmd: { readonly by: number }) => emit({ type: "added", by: cmd.by }),
      handleEvt: (state, evt) => ({ n: state.n + evt.by }),
    });
    expectTypeOf<EvtOf<typeof tally>>().toEqualTypeOf<{ readonly type: "added"; readonly by: number }>();

    // An explicitly annotated Decision works as before (the README's form).
    const annotated = defineEntity({
      typeName: "annotated",
      initialState: () => 0,
      handleCmd: (s: number, cmd: { by: number }): Decision<number, AccountEvt, number, "no"> =>
        cmd.by < 0
          ? reject("no")
          : emitAndReply([{ type: "deposited", amount: cmd.by }], (after: number) => after + s),
      handleEvt: (state, evt) => state + evt.amount,
    });
    expectTypeOf<EvtOf<typeof annotated>>().toEqualTypeOf<AccountEvt>();

    // An event handleEvt does not take is a compile error.
    // @ts-expect-error: handleCmd emits an event handleEvt does not take
    defineEntity({
      typeName: "typo",
      initialState: () => 0,
      handleCmd: (_s: number, _cmd: { by: number }) => emit({ type: "incresed" }),
      handleEvt: (state: number, _evt: { readonly type: "increased" }) => state + 1,
    });
  });

  it("given/when/then is typed per command, too", async () => {
    const then = await given(account, [{ type: "deposited", amount: 5 }]).when({ type: "balance" });
    expectTypeOf(then.outcome).toMatchTypeOf<{ kind: string }>();
    then.thenReply(5);
    // @ts-expect-error: the balance reply is a number (compiled, never called)
    const _wrongReply = () => then.thenReply("5");
    (await given(account).when({ type: "deposit", amount: 0 })).thenRejected("non-positive-amount");
  });
});
