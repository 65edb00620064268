import { isEventSourcedError, type Logger, type TypedEvtRecord } from "@eventsourced/core";
import { describe } from "./batch-processor.js";
import { isInfrastructureError } from "./infrastructure-error.js";
import { decodeRecord, isUndecodable } from "./projected-evt.js";
import type { ProjectionHandler } from "./projection-handler.js";
import type { ProjectionOptions } from "./projection-options.js";
import type { StoredOperatorRequest } from "./projection-store.js";

/**
 * Applies the dead letter at `position` again through the handler and deletes it (atomically with
 * `exactlyOnce`); false when there is none (already re-driven or deleted).
 */
export async function redriveDeadLetter<E>(
  name: string,
  handler: ProjectionHandler<E>,
  binarizer: ProjectionOptions<E>["binarizer"],
  position: number,
): Promise<boolean> {
  const letter = (await handler.store.deadLetters(name)).find((l) => l.position === position);
  if (letter === undefined) return false;
  const record: TypedEvtRecord = { ...letter };
  const decoded = decodeRecord(record, binarizer);
  if (isUndecodable(decoded)) throw decoded.error;
  await handler.redrive(decoded, letter);
  return true;
}

/**
 * Performs the requests an operator stored (the `eventsourced` CLI), oldest first, on the active instance
 * between batches, then removes each. A request whose work fails for good (the handler throws again) is
 * logged and removed, its dead letter kept; an infrastructure failure or a fence is thrown, so the request
 * stays for the next attempt. Performing one twice (a crash before its removal) is harmless: a rebuild
 * starts over, a re-driven dead letter is gone.
 */
export async function performOperatorRequests<E>(
  options: ProjectionOptions<E>,
  logger: Logger,
  requests: readonly StoredOperatorRequest[],
): Promise<void> {
  const { name, handler } = options;
  const infrastructure = options.isInfrastructureError ?? isInfrastructureError;
  for (const request of requests) {
    try {
      if (request.kind === "rebuild") await handler.rebuild();
      else await redriveDeadLetter(name, handler, options.binarizer, request.position);
    } catch (err) {
      if (infrastructure(err) || isEventSourcedError(err, "PROJECTION_FENCED")) throw err;
      logger.error("operator request failed; removed", {
        projection: name,
        request: request.kind,
        ...(request.kind === "redrive" ? { position: request.position } : {}),
        error: describe(err),
      });
    }
    await handler.store.completeRequest?.(name, request.id);
  }
}
