import type { TypedEvtRecord } from "@eventsourced/core";
import type { BatchProcessor } from "./batch-processor.js";
import { decodeRecord } from "./projected-evt.js";
import type { ProjectionOptions } from "./projection-options.js";

/**
 * Decodes one batch and hands it to the processor, telling the projection's instrumentation (if any) when
 * it starts and how it ended. Without instrumentation it reads no clock.
 */
export async function processBatch<E>(
  processor: BatchProcessor<E>,
  batch: readonly TypedEvtRecord[],
  options: Pick<ProjectionOptions<E>, "name" | "type" | "binarizer" | "instrumentation">,
): Promise<void> {
  const { binarizer, instrumentation } = options;
  const decoded = batch.map((record) => decodeRecord(record, binarizer));
  if (instrumentation?.projectionBatchStarted === undefined) {
    await processor.process(decoded);
    return;
  }
  const last = batch.at(-1)!;
  const startedAt = performance.now();
  const observer = instrumentation.projectionBatchStarted({
    name: options.name,
    type: options.type,
    records: batch,
    position: last.position,
    lagMs: Math.max(0, Date.now() - last.recordedAt.getTime()),
    startedAt,
  });
  try {
    await processor.process(decoded);
  } catch (error) {
    observer?.ended({ ok: false, durationMs: performance.now() - startedAt, error });
    throw error;
  }
  observer?.ended({ ok: true, durationMs: performance.now() - startedAt });
}
