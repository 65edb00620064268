import { InvalidArgumentError } from "@eventsourced/core";
import type { OperatorRequest, StoredProjectionStatus } from "./projection-store.js";

const STATUSES: readonly string[] = ["running", "paused", "failed"];

/**
 * Checks what an operator (or any caller of a `ProjectionStore` directly) hands `setStatus`, `reset`,
 * `deleteDeadLetter` and `request`, the same way in every store: a status the stores know, positions that
 * are integers >= 0, a request of a known kind. Throws `InvalidArgumentError` naming the argument, before
 * anything is written (PostgreSQL would otherwise fail with its own constraint error, and the other stores
 * would store the value as given).
 */
export function checkStoreArguments(args: {
  readonly status?: StoredProjectionStatus | undefined;
  readonly position?: number | undefined;
  readonly request?: OperatorRequest | undefined;
}): void {
  if ("status" in args && !STATUSES.includes(args.status as string)) {
    throw new InvalidArgumentError(
      `invalid projection status ${JSON.stringify(args.status)}: "running", "paused" or "failed"`,
    );
  }
  if ("position" in args) checkPosition(args.position, "position");
  if ("request" in args) {
    const request = args.request as { kind?: unknown; position?: unknown } | null | undefined;
    if (request?.kind === "rebuild") return;
    if (request?.kind !== "redrive") {
      throw new InvalidArgumentError(`invalid operator request kind ${JSON.stringify(request?.kind)}`);
    }
    checkPosition(request.position, "request.position");
  }
}

function checkPosition(position: unknown, name: string): void {
  if (!Number.isSafeInteger(position) || (position as number) < 0) {
    throw new InvalidArgumentError(`invalid ${name} ${String(position)}: an integer >= 0`);
  }
}
