// The given/when/then example of packages/core/README.md, verbatim between the region markers.
// #region given
import { given } from "@eventsourced/core/testing";
import { it } from "vitest"; // or node:test, or any runner: the assertions throw node:assert errors
import { account } from "./account.js";

it("withdraws from what was deposited", async () => {
  (await given(account, [{ type: "deposited", amount: 50 }]).when({ type: "withdraw", amount: 20 }))
    .thenEvents([{ type: "withdrawn", amount: 20 }])
    .thenReply(30);
});

it("refuses to overdraw", async () => {
  (await given(account).when({ type: "withdraw", amount: 1 })).thenRejected({
    reason: "insufficient-funds",
    balance: 0,
  });
});
// #endregion given
