// "Evolving events and snapshots" in packages/core/README.md, verbatim between the region markers (checked
// by test/readme-code-blocks.test.ts); ../readme-example.test.ts runs it.
// #region upcasting
import { jsonBinarizer, jsonUpcaster, upcastingBinarizer } from "@eventsourced/core";
import type { Account, AccountEvt } from "./account.js";

type AccountEvtV1 = { readonly type: AccountEvt["type"]; readonly amt: number };

// Version 1 stored { type, amt } as "application/json"; version 2 calls the field `amount`.
export const accountBinarizer = upcastingBinarizer(
  jsonBinarizer<AccountEvt, Account>({ contentType: "application/json; v=2" }),
  [
    jsonUpcaster<AccountEvtV1>("application/json", "application/json; v=2", (old) => [
      { type: old.type, amount: old.amt },
    ]),
  ],
);
// #endregion upcasting
