// The entity definitions shown in packages/core/README.md ("Defining an entity"), verbatim between the
// region markers (test/readme-code-blocks.test.ts checks); ../readme-example.test.ts runs them.
// #region per-command
import { defineEntity, emit, emitAndReply, reject, reply } from "@eventsourced/core";

export type Account = { readonly balance: number };
export type AccountEvt =
  | { readonly type: "deposited"; readonly amount: number }
  | { readonly type: "withdrawn"; readonly amount: number };

export const account = defineEntity({
  typeName: "account",
  initialState: (): Account => ({ balance: 0 }),
  commands: {
    // reply: void, rejection: "non-positive-amount"
    deposit: (_state, cmd: { amount: number }) =>
      cmd.amount > 0 ? emit({ type: "deposited", amount: cmd.amount }) : reject("non-positive-amount"),
    // reply: number (the balance after), rejection: { reason: "insufficient-funds"; balance: number }
    withdraw: (state, cmd: { amount: number }) =>
      cmd.amount > state.balance
        ? reject({ reason: "insufficient-funds", balance: state.balance })
        : emitAndReply([{ type: "withdrawn", amount: cmd.amount }], (after: Account) => after.balance),
    // reply: number, rejection: never (read-only: nothing is persisted)
    balance: (state) => reply(state.balance),
  },
  handleEvt: (state, evt: AccountEvt): Account => ({
    balance: evt.type === "deposited" ? state.balance + evt.amount : state.balance - evt.amount,
  }),
});
// #endregion per-command

// #region single-handler
export type AccountCmd =
  | { readonly type: "deposit"; readonly amount: number }
  | { readonly type: "withdraw"; readonly amount: number }
  | { readonly type: "balance" };

export const accountWithOneHandler = defineEntity({
  typeName: "account",
  initialState: (): Account => ({ balance: 0 }),
  // Every command shares one reply type (number) and one rejection type (the union of all rejections).
  handleCmd: (state: Account, cmd: AccountCmd) => {
    switch (cmd.type) {
      case "deposit":
        return cmd.amount > 0
          ? emitAndReply([{ type: "deposited", amount: cmd.amount }], (after: Account) => after.balance)
          : reject("non-positive-amount");
      case "withdraw":
        return cmd.amount > state.balance
          ? reject("insufficient-funds")
          : emitAndReply([{ type: "withdrawn", amount: cmd.amount }], (after: Account) => after.balance);
      case "balance":
        return reply(state.balance);
    }
  },
  handleEvt: (state, evt: AccountEvt): Account => ({
    balance: evt.type === "deposited" ? state.balance + evt.amount : state.balance - evt.amount,
  }),
});
// #endregion single-handler
