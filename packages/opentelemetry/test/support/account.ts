import { type Decision, defineEntity, emitAndReply, jsonBinarizer, reject, reply } from "@eventsourced/core";

/** Commands of the test account. */
export type AccountCmd =
  | { readonly type: "deposit"; readonly amount: number }
  | { readonly type: "withdraw"; readonly amount: number }
  | { readonly type: "balance" }
  | { readonly type: "explode" };

/** Its one event. */
export interface Moved {
  readonly amount: number;
}

export const movedBinarizer = jsonBinarizer<Moved, number>();

function decide(balance: number, cmd: AccountCmd): Decision<number, Moved, number, "insufficient"> {
  switch (cmd.type) {
    case "deposit":
      return emitAndReply<number, Moved, number>([{ amount: cmd.amount }], (s) => s);
    case "withdraw":
      return balance < cmd.amount
        ? reject("insufficient")
        : emitAndReply<number, Moved, number>([{ amount: -cmd.amount }], (s) => s);
    case "balance":
      return reply(balance);
    case "explode":
      throw new Error("the handler exploded");
  }
}

/** An account entity of type `typeName` (unique per test). */
export function accountEntity(typeName: string) {
  return defineEntity<number, AccountCmd, Moved, number, "insufficient">({
    typeName,
    initialState: () => 0,
    handleCmd: decide,
    handleEvt: (balance, evt) => balance + evt.amount,
  });
}

/** Polls `condition` every 10 ms; fails after `timeoutMs` naming `what` (a liveness bound, not a timing claim). */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every item of an async iterable (Node 20 has no `Array.fromAsync`). */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
