import type { PendingPersist } from "./pending-persist.js";
import { checkFences, type FenceCheck, ownershipLost, type PersistFence } from "./persist-fence.js";
import type { PgClientLike } from "./pg-pool-like.js";

/**
 * Strict fencing in a batch's transaction, before the write: persists whose tenure is over fail alone
 * (`OwnershipLostError`), with nothing written; the others go on. Resolves to `batch` itself when every
 * fence is live, else to the live persists.
 */
export async function rejectLostFences(
  client: PgClientLike,
  fenceCheck: FenceCheck,
  batch: PendingPersist[],
): Promise<PendingPersist[]> {
  const { live, lost } = await checkFences(client, fenceCheck, batch);
  if (lost.length === 0) return batch;
  for (const p of lost) p.reject(ownershipLost(p as PendingPersist & { fence: PersistFence }));
  return live;
}
