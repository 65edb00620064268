import { setTimeout as sleep } from "node:timers/promises";
import type { OperatorRequest, StoredOperatorRequest } from "@eventsourced/projections";
import type { ListingProjectionStore } from "../backends/admin-backend.js";
import { AdminCommandError } from "../cli-errors.js";
import { type CommandContext, integerArg } from "../command.js";

/** How long a command waits for the active instance by default (`--wait <seconds>`; 0: do not wait). */
const DEFAULT_WAIT_S = 30;

/** A request stored, and whether the active instance performed it while the command waited. */
export interface RequestOutcome {
  readonly request: StoredOperatorRequest;
  readonly performed: boolean;
}

/**
 * Stores `request` for the active instance of projection `name` (it runs the projection's own handler at
 * its next status poll, default every second) and waits until it is gone from the row.
 * @throws AdminCommandError when the store cannot take requests or the projection has no row; when the
 * wait ends first (the request stays stored and is performed when an instance runs).
 */
export async function requestAndWait(
  ctx: CommandContext,
  store: ListingProjectionStore,
  name: string,
  request: OperatorRequest,
): Promise<RequestOutcome> {
  const waitS = integerArg("--wait", ctx.options.wait, 0) ?? DEFAULT_WAIT_S;
  if (store.request === undefined) throw new AdminCommandError("this projection store takes no requests");
  const stored = await store.request(name, request);
  if (stored === undefined) throw new AdminCommandError(`no projection named ${JSON.stringify(name)}`);
  if (waitS === 0) return { request: stored, performed: false };
  const deadline = Date.now() + waitS * 1_000;
  while (Date.now() < deadline) {
    await sleep(200);
    const row = await store.load(name);
    if (!(row?.requests ?? []).some((r) => r.id === stored.id)) return { request: stored, performed: true };
  }
  throw new AdminCommandError(
    `${request.kind} of ${name} requested (${stored.id}) but no running instance performed it within ${waitS} s; ` +
      "it stays stored and runs when an instance of the projection polls its status (`projections status` lists it)",
  );
}
