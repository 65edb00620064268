import type { CommandObserver, CommandStart } from "./command-observer.js";
import type { LeaseEvent } from "./lease-event.js";
import type { ProjectionBatchObserver, ProjectionBatchStart } from "./projection-batch-observer.js";
import type { RecoveryObserver, RecoveryStart } from "./recovery-observer.js";
import type { ConflictInfo, PassivationInfo } from "./runtime-events.js";

/**
 * The runtime's instrumentation hooks: what an entity, a registry, a projection and a lease keeper report
 * while they work, for tracing and metrics (`@eventsourced/opentelemetry` maps them to OpenTelemetry) or
 * for logs. Every hook is optional; give an implementation as the `instrumentation` option of
 * `Entity.spawn`, `EntityRegistry`, `Projection.create` or `LeaseKeeper`.
 *
 * Without one (the default) the runtime makes no call, reads no clock and allocates nothing per command.
 * With one, hooks are called synchronously on the runtime's path: keep them cheap (increment a counter,
 * start a span). A hook (or an observer's method) that throws is caught: the runtime warns on its logger
 * (the 1st, 10th, 100th, ... failure of each hook) and goes on as if it had returned nothing, so a broken
 * tracer can neither stall an entity nor turn a durable command into a failure (`guardInstrumentation`).
 *
 * Ids: hooks receive entity ids for spans and logs. Ids are often personal data; keep them off metric
 * attributes (a metric per id is also a cardinality explosion).
 * @example
 * const instrumentation: Instrumentation = {
 *   commandStarted: (cmd) => ({
 *     ended: (end) => console.log(cmd.typeName, cmd.cmdType, end.outcome, end.durationMs),
 *   }),
 * };
 * const registry = new EntityRegistry(counter, { evtLog, instrumentation });
 */
export interface Instrumentation {
  /**
   * An entity starts handling a command (it left the mailbox). Return an observer to be told about its
   * persist and its end, or `undefined` to hear nothing more of it.
   */
  commandStarted?(cmd: CommandStart): CommandObserver | undefined;
  /** An entity starts recovering (spawn, or a registry's incarnation). */
  recoveryStarted?(recovery: RecoveryStart): RecoveryObserver | undefined;
  /** A registry passivated an entity (idle, over the active limit, or asked to). */
  passivated?(passivation: PassivationInfo): void;
  /** A persist was refused because another writer appended first; the command is re-run or fails. */
  conflict?(conflict: ConflictInfo): void;
  /** A lease was acquired, lost or released, or a write was fenced off because its tenure had ended. */
  lease?(event: LeaseEvent): void;
  /** A projection hands a batch to its handler. */
  projectionBatchStarted?(batch: ProjectionBatchStart): ProjectionBatchObserver | undefined;
}
