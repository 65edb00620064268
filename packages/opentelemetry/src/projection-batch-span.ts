import type { ProjectionBatchObserver, ProjectionBatchStart } from "@eventsourced/core";
import { type Link, ROOT_CONTEXT, SpanKind, type Tracer } from "@opentelemetry/api";
import { Attr, SpanName } from "./attributes.js";
import { failSpan } from "./command-span.js";
import type { RuntimeInstruments } from "./runtime-instruments.js";
import { parseTraceparent, TRACEPARENT_HEADER, TRACESTATE_HEADER } from "./trace-context.js";

/** One link per distinct producing span among the batch's events, at most `maxLinks`. */
export function producerLinks(batch: ProjectionBatchStart, maxLinks: number): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const record of batch.records) {
    const headers = record.metadata?.headers;
    const traceparent = headers?.[TRACEPARENT_HEADER];
    if (traceparent === undefined || seen.has(traceparent)) continue;
    seen.add(traceparent);
    const context = parseTraceparent(traceparent, headers?.[TRACESTATE_HEADER]);
    if (context === undefined) continue;
    links.push({ context });
    if (links.length >= maxLinks) break;
  }
  return links;
}

/**
 * Starts the consumer span of a projection batch (a root span: a batch has many producers, each a link)
 * and returns its observer; records the batch histograms at its end.
 */
export function startProjectionBatch(
  tracer: Tracer | undefined,
  instruments: RuntimeInstruments,
  batch: ProjectionBatchStart,
  maxLinks: number,
): ProjectionBatchObserver {
  const attributes = { [Attr.projectionName]: batch.name, [Attr.entityType]: batch.type };
  const span = tracer?.startSpan(
    SpanName.projectionBatch,
    {
      kind: SpanKind.CONSUMER,
      root: true,
      links: producerLinks(batch, maxLinks),
      attributes: {
        ...attributes,
        [Attr.messagingSystem]: "eventsourced",
        [Attr.messagingOperationType]: "process",
        [Attr.messagingDestination]: batch.type,
        [Attr.messagingConsumerGroup]: batch.name,
        [Attr.messagingBatchCount]: batch.records.length,
        [Attr.projectionPosition]: batch.position,
        [Attr.projectionLagMs]: batch.lagMs,
      },
    },
    ROOT_CONTEXT,
  );
  return {
    ended: (end) => {
      instruments.projectionBatchDuration.record(end.durationMs / 1_000, attributes);
      instruments.projectionBatchSize.record(batch.records.length, attributes);
      if (span === undefined) return;
      if (!end.ok) failSpan(span, end.error);
      span.end();
    },
  };
}
