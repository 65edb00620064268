// The entity of the README examples: an account (see ../support/account.ts).
import { accountEntity } from "../support/account.js";

export { type Moved, movedBinarizer } from "../support/account.js";

export const account = accountEntity("account");
