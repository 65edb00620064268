import { type Deferred, deferred } from "./deferred.js";
import type { EntityStatus, Termination } from "./entity-ref.js";
import { EntityStoppedError } from "./errors/index.js";

/**
 * Where an entity is in its life. `running` serves commands; `stopping` serves what is queued and takes
 * nothing new; `stopped` and `failed` are final (`failed` keeps why, for the errors of later callers).
 */
type Phase =
  | { readonly status: "running" }
  | { readonly status: "stopping" }
  | { readonly status: "stopped" }
  | { readonly status: "failed"; readonly error: Error; readonly cause: unknown };

/** Work that termination waits for. */
interface Pending {
  idle(): Promise<void>;
}

const RUNNING: Phase = { status: "running" };
const STOPPING: Phase = { status: "stopping" };
const STOPPED: Phase = { status: "stopped" };

/**
 * The lifecycle of one entity as one state with explicit transitions: running -> stopping -> stopped, and
 * running or stopping -> failed. Termination (stopped or failed) waits until `pending` (the snapshot
 * scheduler, if any) is idle and then resolves `whenStopped` once. The promises are created only when someone asks for them.
 */
export class EntityLifecycle {
  readonly #type: string;
  readonly #id: string;
  #phase: Phase = RUNNING;
  // Set by `beginStop(true)`: save a snapshot of the final state before terminating.
  #snapshotOnStop = false;
  // Set by `beginStop(_, true)`: termination does not wait for the entity's background deletion.
  #leavesDeletion = false;
  #terminated: Deferred<Termination> | undefined;
  #termination: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;

  constructor(type: string, id: string) {
    this.#type = type;
    this.#id = id;
  }

  get status(): EntityStatus {
    return this.#phase.status;
  }

  get running(): boolean {
    return this.#phase === RUNNING;
  }

  /** Resolves once the entity terminated (never rejects). */
  get whenStopped(): Promise<Termination> {
    this.#terminated ??= deferred<Termination>();
    return this.#terminated.promise;
  }

  /** True when the stop under way was asked to save a snapshot of the final state first. */
  get snapshotOnStop(): boolean {
    return this.#snapshotOnStop;
  }

  /**
   * True when the stop under way leaves the entity's queued background deletion to its type's retention
   * runner (a registry's automatic passivation) instead of waiting for it.
   */
  get leavesDeletion(): boolean {
    return this.#leavesDeletion;
  }

  /**
   * running -> stopping (with a final snapshot when `snapshot`; leaving the background deletion to the
   * retention runner when `leaveDeletion`); false when the entity was not running.
   */
  beginStop(snapshot = false, leaveDeletion = false): boolean {
    if (this.#phase !== RUNNING) return false;
    this.#phase = STOPPING;
    this.#snapshotOnStop = snapshot;
    this.#leavesDeletion = leaveDeletion;
    return true;
  }

  /** What `stop()` returns: the same promise every time. */
  stopped(): Promise<void> {
    this.#stopped ??= this.whenStopped.then(() => undefined);
    return this.#stopped;
  }

  /** Terminates as stopped when a stop was requested (called whenever the entity becomes idle). */
  idle(pending: Pending | undefined): void {
    if (this.#phase === STOPPING) this.#terminate({ reason: "stopped" }, pending);
  }

  /** -> failed, for good; `cause` is what later callers' `EntityStoppedError` carries. */
  fail(error: Error, cause: unknown, pending: Pending | undefined): void {
    this.#phase = { status: "failed", error, cause };
    this.#terminate({ reason: "failed", error }, pending);
  }

  /** The error for a command the entity can no longer take. */
  stoppedError(): EntityStoppedError {
    const phase = this.#phase;
    return new EntityStoppedError(
      this.#type,
      this.#id,
      phase.status === "failed" ? { cause: phase.cause } : undefined,
    );
  }

  #terminate(termination: Termination, pending: Pending | undefined): void {
    this.#termination ??= (async () => {
      await pending?.idle();
      if (termination.reason === "stopped") this.#phase = STOPPED;
      this.#terminated ??= deferred<Termination>();
      this.#terminated.resolve(termination);
    })();
  }
}
