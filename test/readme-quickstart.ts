// The README's quickstart, verbatim between the region markers; test/readme.test.ts runs it and checks
// that README.md shows exactly this code.
// #region quickstart
import { type Decision, defineEntity, Entity, emitAndReply, reject, reply } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";

type AccountCmd =
  | { type: "deposit"; amount: number }
  | { type: "withdraw"; amount: number }
  | { type: "balance" };
type AccountEvt = { type: "deposited"; amount: number } | { type: "withdrawn"; amount: number };
type Account = { readonly balance: number };
type Rejection = "insufficient-funds" | "non-positive-amount";

export const account = defineEntity({
  typeName: "account",
  initialState: (): Account => ({ balance: 0 }),
  handleCmd(state: Account, cmd: AccountCmd): Decision<Account, AccountEvt, number, Rejection> {
    if (cmd.type === "balance") return reply(state.balance);
    if (cmd.amount <= 0) return reject("non-positive-amount");
    if (cmd.type === "withdraw" && cmd.amount > state.balance) return reject("insufficient-funds");
    const evt: AccountEvt =
      cmd.type === "deposit"
        ? { type: "deposited", amount: cmd.amount }
        : { type: "withdrawn", amount: cmd.amount };
    return emitAndReply([evt], (after: Account) => after.balance);
  },
  handleEvt: (state, evt) => ({
    balance: evt.type === "deposited" ? state.balance + evt.amount : state.balance - evt.amount,
  }),
});

export async function quickstart(): Promise<string[]> {
  const evtLog = new InMemoryEvtLog(); // or PostgresEvtLog / NatsEvtLog
  const ref = await Entity.spawn("account-1", account, { evtLog });

  const lines: string[] = [];
  const deposited = await ref.handleCmd({ type: "deposit", amount: 100 });
  if (deposited.kind === "accepted") lines.push(`balance ${deposited.reply} at seqNo ${deposited.seqNo}`);

  const overdrawn = await ref.handleCmd({ type: "withdraw", amount: 500 });
  if (overdrawn.kind === "rejected") lines.push(`rejected: ${overdrawn.rejection}`);

  await ref.stop();
  const recovered = await Entity.spawn("account-1", account, { evtLog }); // replays the log
  const balance = await recovered.handleCmd({ type: "balance" });
  if (balance.kind === "accepted") lines.push(`recovered balance ${balance.reply}`);
  await recovered.stop();
  return lines; // ["balance 100 at seqNo 1", "rejected: insufficient-funds", "recovered balance 100"]
}
// #endregion quickstart
