// "Routed commands" in packages/opentelemetry/README.md, verbatim between the region markers;
// ../readme.test.ts runs it.
// #region routed
import type { CmdOf, EntityRegistry, EvtOf, ProtocolOf, StateOf } from "@eventsourced/core";
import { type HeaderCarrier, readTraceHeaders, traceHeaders } from "@eventsourced/opentelemetry";
import type { account } from "./account.js"; // the entity of the repository README's quickstart

type Accounts = EntityRegistry<StateOf<typeof account>, EvtOf<typeof account>, ProtocolOf<typeof account>>;
type AccountCmd = CmdOf<ProtocolOf<typeof account>>;

/** The sending process: the trace context goes with the command, as message headers. */
export function outgoingHeaders(): Record<string, string> {
  return traceHeaders(); // { traceparent: "00-<trace id>-<span id>-01" } under an active span, else {}
}

/** The receiving process: the command's span (and its events) continue the sender's trace. */
export function handleRouted(accounts: Accounts, id: string, cmd: AccountCmd, headers: HeaderCarrier) {
  return accounts.send(id, cmd, { metadata: { headers: readTraceHeaders(headers) } });
}
// #endregion routed
