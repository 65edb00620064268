/**
 * The attribute names the instrumentation writes. Entity ids (`es.entity.id`) appear on spans only, and
 * only when `entityIdOnSpans` is set: never on a metric.
 */
export const Attr = {
  entityType: "es.entity.type",
  entityId: "es.entity.id",
  commandType: "es.command.type",
  commandOutcome: "es.command.outcome",
  seqNo: "es.seq_no",
  eventCount: "es.events.count",
  batchSize: "es.persist.batch.size",
  persistDurationMs: "es.persist.duration_ms",
  logPosition: "es.log.position",
  recoveryEvents: "es.recovery.events",
  recoverySnapshot: "es.recovery.snapshot",
  recoverySnapshotSeqNo: "es.recovery.snapshot_seq_no",
  recoveryOutcome: "es.recovery.outcome",
  passivationReason: "es.passivation.reason",
  leaseEvent: "es.lease.event",
  projectionName: "es.projection.name",
  projectionPosition: "es.projection.position",
  projectionLagMs: "es.projection.lag_ms",
  messagingSystem: "messaging.system",
  messagingOperationType: "messaging.operation.type",
  messagingDestination: "messaging.destination.name",
  messagingConsumerGroup: "messaging.consumer.group.name",
  messagingBatchCount: "messaging.batch.message_count",
} as const;

/** The span names. */
export const SpanName = {
  command: "es.command",
  persistBatch: "es.persist.batch",
  recover: "es.recover",
  projectionBatch: "es.projection.batch",
} as const;
