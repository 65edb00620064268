import {
  type CmdResult,
  type DuplicateResult,
  defineEntity,
  type EntityRef,
  EntityRegistry,
  emit,
  emitAndReply,
  type ProtocolOf,
  type RegistryStats,
  reject,
  reply,
} from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { describe, expect, expectTypeOf, it } from "vitest";
import { type CounterCmd, type CounterRejection, counter } from "./fixtures.js";

interface Account {
  readonly balance: number;
}
type AccountEvt =
  | { readonly type: "deposited"; readonly amount: number }
  | { readonly type: "withdrawn"; readonly amount: number };

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

describe("EntityRegistry types", () => {
  it("send is typed exactly like EntityRef.handleCmd: per-command replies and rejections", async () => {
    const accounts = new EntityRegistry(account, { evtLog: new InMemoryEvtLog() });
    expectTypeOf(await accounts.send("a", { type: "deposit", amount: 5 })).toEqualTypeOf<
      CmdResult<void, "non-positive-amount">
    >();
    expectTypeOf(await accounts.send("a", { type: "balance" })).toEqualTypeOf<CmdResult<number, never>>();
    const withdrawn = await accounts.send("a", { type: "withdraw", amount: 10 });
    expectTypeOf(withdrawn).toEqualTypeOf<
      CmdResult<number, { readonly reason: "insufficient-funds"; readonly balance: number }>
    >();
    if (withdrawn.kind === "rejected") expect(withdrawn.rejection.balance).toBe(5);
    else expect.unreachable();
    // The same command through a ref resolves to the same type.
    const ref = await accounts.get("a");
    expectTypeOf(ref).toEqualTypeOf<EntityRef<ProtocolOf<typeof account>>>();
    expectTypeOf(await ref.handleCmd({ type: "balance" })).toEqualTypeOf<
      Awaited<ReturnType<typeof accounts.send<{ type: "balance" }>>>
    >();
    const _checks = () => {
      // @ts-expect-error: the deposit command needs its amount
      accounts.send("a", { type: "deposit" });
      // @ts-expect-error: no such command
      accounts.send("a", { type: "close" });
      // @ts-expect-error: ids are strings
      accounts.send(1, { type: "balance" });
    };
    await accounts.close();
  });

  it("single-handler form: one reply and rejection type for every command", async () => {
    const counters = new EntityRegistry(counter, { evtLog: new InMemoryEvtLog() });
    expectTypeOf(await counters.send("c", { type: "inc", by: 1 })).toEqualTypeOf<
      CmdResult<number, CounterRejection>
    >();
    const cmd: CounterCmd = { type: "get" };
    expectTypeOf(await counters.send("c", cmd)).toEqualTypeOf<CmdResult<number, CounterRejection>>();
    expectTypeOf(counters.stats).toEqualTypeOf<RegistryStats>();
    const _notACommand = () =>
      // @ts-expect-error: not a command of the counter
      counters.send("c", { type: "reset" });
    await counters.close();
  });
});

describe("registry idempotency", () => {
  it("forwards an idempotency key: a retried send is a duplicate, typed as one", async () => {
    const inc = (by: number) => ({ type: "inc", by }) as const;
    const registry = new EntityRegistry(counter, { evtLog: new InMemoryEvtLog() });
    const first = await registry.send("c", inc(2), { idempotencyKey: "k" });
    expectTypeOf(first).toEqualTypeOf<CmdResult<number, CounterRejection> | DuplicateResult>();
    expect(first).toMatchObject({ kind: "accepted", seqNo: 1 });
    expect(await registry.send("c", inc(2), { idempotencyKey: "k" })).toEqual({
      kind: "duplicate",
      seqNo: 1,
      position: 1,
    });
    expectTypeOf(await registry.send("c", inc(1))).toEqualTypeOf<CmdResult<number, CounterRejection>>();
    await registry.close();
  });
});
