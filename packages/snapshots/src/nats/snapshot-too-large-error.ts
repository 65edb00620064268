import { InvalidArgumentError } from "@eventsourced/core";

/** A snapshot's state does not fit into one value of the bucket (its max value size or the server's max payload). */
export class SnapshotTooLargeError extends InvalidArgumentError {
  constructor(
    readonly type: string,
    readonly id: string,
    readonly size: number,
    readonly limit: number,
    options?: { cause?: unknown },
  ) {
    super(
      `snapshot of ${type}/${JSON.stringify(id)} is ${size} bytes as a KV value, more than the limit of ${limit} bytes` +
        " (raise the bucket's maxValueSize or the server's max_payload, or snapshot a smaller state)",
      options,
    );
  }
}
