// The README's quickstart, verbatim between the region markers: test/readme.test.ts runs it,
// test/readme-code-blocks.test.ts checks that README.md shows exactly this code, and the fresh-project
// check (scripts/check-fresh-project.mjs) compiles and runs it in a project that installed the packed tarballs.
// #region quickstart
import { defineEntity, Entity, emit, emitAndReply, reject, reply } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";

type Account = { readonly balance: number };
type AccountEvt = { type: "deposited"; amount: number } | { type: "withdrawn"; amount: number };

export const account = defineEntity({
  typeName: "account",
  initialState: (): Account => ({ balance: 0 }),
  // One handler per command: its parameter is the command's payload, its decision gives the reply type.
  commands: {
    deposit: (_state, cmd: { amount: number }) =>
      cmd.amount > 0 ? emit({ type: "deposited", amount: cmd.amount }) : reject("non-positive-amount"),
    withdraw: (state, cmd: { amount: number }) =>
      cmd.amount > state.balance
        ? reject("insufficient-funds")
        : emitAndReply([{ type: "withdrawn", amount: cmd.amount }], (after: Account) => after.balance),
    balance: (state) => reply(state.balance),
  },
  handleEvt: (state, evt: AccountEvt): Account => ({
    balance: evt.type === "deposited" ? state.balance + evt.amount : state.balance - evt.amount,
  }),
});

export async function quickstart(): Promise<string[]> {
  const evtLog = new InMemoryEvtLog(); // or PostgresEvtLog / NatsEvtLog
  const ref = await Entity.spawn("account-1", account, { evtLog });
  const lines: string[] = [];

  const deposited = await ref.handleCmd({ type: "deposit", amount: 100 }); // reply: void
  if (deposited.kind === "accepted")
    lines.push(`deposited: seqNo ${deposited.seqNo}, position ${deposited.position}`);

  const withdrawn = await ref.handleCmd({ type: "withdraw", amount: 30 }); // reply: number
  if (withdrawn.kind === "accepted") lines.push(`balance after withdrawing: ${withdrawn.reply}`);

  const overdrawn = await ref.handleCmd({ type: "withdraw", amount: 500 });
  if (overdrawn.kind === "rejected") lines.push(`rejected: ${overdrawn.rejection}`);

  await ref.stop();
  const recovered = await Entity.spawn("account-1", account, { evtLog }); // replays the log
  const balance = await recovered.handleCmd({ type: "balance" }); // reply: number, rejection: never
  if (balance.kind === "accepted") lines.push(`recovered balance: ${balance.reply}`);
  await recovered.stop();
  return lines;
}
// #endregion quickstart

/** What {@link quickstart} returns; the README quotes it. */
export const QUICKSTART_OUTPUT: readonly string[] = [
  "deposited: seqNo 1, position 1",
  "balance after withdrawing: 70",
  "rejected: insufficient-funds",
  "recovered balance: 70",
];
