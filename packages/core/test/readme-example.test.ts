// The examples in packages/core/README.md are copied from this file (between the `#region` markers), so
// they compile and run.

import { readFileSync } from "node:fs";
// #region define
import { type Decision, defineEntity, emitAndReply, reject, reply } from "@eventsourced/core";
import { expect, it } from "vitest";

type AccountCmd =
  | { readonly type: "deposit"; readonly amount: number }
  | { readonly type: "withdraw"; readonly amount: number }
  | { readonly type: "balance" };

type AccountEvt =
  | { readonly type: "deposited"; readonly amount: number }
  | { readonly type: "withdrawn"; readonly amount: number };

type AccountRejection = { readonly reason: "insufficient-funds"; readonly balance: number };

const account = defineEntity<number, AccountCmd, AccountEvt, number, AccountRejection>({
  typeName: "account",
  initialState: () => 0,
  handleCmd: (balance, cmd): Decision<number, AccountEvt, number, AccountRejection> => {
    switch (cmd.type) {
      case "deposit":
        return emitAndReply<number, AccountEvt, number>(
          [{ type: "deposited", amount: cmd.amount }],
          (b) => b,
        );
      case "withdraw":
        return cmd.amount > balance
          ? reject({ reason: "insufficient-funds", balance })
          : emitAndReply<number, AccountEvt, number>([{ type: "withdrawn", amount: cmd.amount }], (b) => b);
      case "balance":
        return reply(balance);
    }
  },
  handleEvt: (balance, evt) => (evt.type === "deposited" ? balance + evt.amount : balance - evt.amount),
});
// #endregion define

it("the README's spawn example runs", async () => {
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  // #region spawn
  // (in your code: import { Entity, ... } from "@eventsourced/core"; InMemoryEvtLog from "@eventsourced/core/testing")
  const { Entity, PersistError } = await import("@eventsourced/core");
  const { InMemoryEvtLog, InMemorySnapshotStore } = await import("@eventsourced/core/testing");

  const evtLog = new InMemoryEvtLog(); // or PostgresEvtLog / NatsEvtLog
  const ref = await Entity.spawn("acc-42", account, {
    evtLog,
    snapshotStore: new InMemorySnapshotStore(),
    snapshotAfter: 100, // snapshot whenever the seqNo crosses a multiple of 100
  });

  await ref.handleCmd({ type: "deposit", amount: 50 });
  try {
    const result = await ref.handleCmd({ type: "withdraw", amount: 80 }, { timeoutMs: 5_000 });
    if (result.kind === "accepted") log(`new balance ${result.reply} at seqNo ${result.seqNo}`);
    else log(`rejected: ${result.rejection.reason}, balance ${result.rejection.balance}`);
  } catch (error) {
    // Technical failures: the command's outcome is not a business decision.
    if (error instanceof PersistError && error.outcomeUnknown)
      log("maybe written: the entity re-reads the log");
    else throw error;
  }
  await ref.stop();
  // #endregion spawn
  expect(lines).toEqual(["rejected: insufficient-funds, balance 50"]);
});

it("the README's given/when/then example runs", async () => {
  // #region given
  const { given } = await import("@eventsourced/core/testing");

  (await given(account, [{ type: "deposited", amount: 50 }]).when({ type: "withdraw", amount: 20 }))
    .thenEvents([{ type: "withdrawn", amount: 20 }])
    .thenReply(30);

  (await given(account).when({ type: "withdraw", amount: 1 })).thenRejected({
    reason: "insufficient-funds",
    balance: 0,
  });
  // #endregion given
});

it("the README's failure-injection example runs", async () => {
  const { Entity, PersistError } = await import("@eventsourced/core");
  // #region faulty
  const { FaultyEvtLog, InMemoryEvtLog } = await import("@eventsourced/core/testing");

  const evtLog = new FaultyEvtLog(new InMemoryEvtLog());
  const ref = await Entity.spawn("acc-1", account, { evtLog });

  evtLog.failNextPersist({ afterWrite: true }); // written, but the caller hears "outcome unknown"
  await expect(ref.handleCmd({ type: "deposit", amount: 10 })).rejects.toBeInstanceOf(PersistError);
  // The entity re-reads the log before its next command: the deposit did land.
  expect(await ref.handleCmd({ type: "balance" })).toMatchObject({ kind: "accepted", reply: 10, seqNo: 1 });
  // #endregion faulty
});

it("the README shows every example exactly as this file has it", () => {
  const source = readFileSync(new URL(import.meta.url), "utf8");
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  for (const name of ["define", "spawn", "given", "faulty"]) {
    const match = source.match(
      new RegExp(`\\n([ \\t]*)// #region ${name}\\n([\\s\\S]*?)\\n[ \\t]*// #endregion ${name}`),
    );
    expect(match, `region ${name}`).not.toBeNull();
    const indent = match![1]!.length;
    const code = match![2]!
      .split("\n")
      .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
      .join("\n")
      .trim();
    expect(readme).toContain(`\`\`\`ts\n${code}\n\`\`\``);
  }
});
