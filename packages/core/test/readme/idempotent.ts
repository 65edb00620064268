// "Idempotent commands" in packages/core/README.md, verbatim between the region markers (checked by
// test/readme-code-blocks.test.ts); ../readme-example.test.ts runs it.
// #region idempotent
import { type EntityRef, isEventSourcedError, type ProtocolOf } from "@eventsourced/core";
import type { account } from "./account.js";

/** Deposits for an order at most once, however often the caller has to retry. */
export async function depositOnce(
  ref: EntityRef<ProtocolOf<typeof account>>,
  orderId: string,
  amount: number,
): Promise<"deposited" | "already deposited" | "rejected"> {
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await ref.handleCmd({ type: "deposit", amount }, { idempotencyKey: `order-${orderId}` });
      // "duplicate": an earlier attempt was applied; result.seqNo and result.position say where.
      if (result.kind === "duplicate") return "already deposited";
      return result.kind === "accepted" ? "deposited" : "rejected";
    } catch (err) {
      // The write may or may not have happened: the same key makes the retry safe.
      if (isEventSourcedError(err, "PERSIST_FAILED") && err.outcomeUnknown && attempt < 3) continue;
      throw err;
    }
  }
}
// #endregion idempotent
