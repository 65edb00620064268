import { randomUUID } from "node:crypto";
import {
  Backoff,
  type CmdResult,
  CommandTimeoutError,
  ConfigurationError,
  type DuplicateResult,
  InvalidArgumentError,
  TYPE_NAME_PATTERN,
  validateCmd,
  validateId,
  validateIdempotencyKey,
} from "@eventsourced/core";
import type { NatsConnection } from "@nats-io/transport-node";
import type {
  ClusterClientOptions,
  LocalHandler,
  LocalOutcome,
  SendOptions,
} from "./cluster-client-options.js";
import type { ClusterStore } from "./cluster-store.js";
import { type ClusterCodec, jsonCodec } from "./codec.js";
import { decodeReply, encodeRequest } from "./envelope.js";
import {
  ClusterRoutingError,
  ClusterStoppedError,
  NoOwnerError,
  NotOwnerError,
  OverloadedError,
  RemoteCommandError,
  ShardConfigMismatchError,
} from "./errors.js";
import { decodeJsonResult, encodeJsonRequest, JSON_RESULT } from "./json-envelope.js";
import { NatsClusterStore } from "./nats-cluster-store.js";
import { NatsTransport } from "./nats-transport.js";
import {
  CLUSTER_NAME_PATTERN,
  methodsOption,
  patternOption,
  type Retry,
  retryOptions,
  type Subjects,
  subjectPrefix,
  subjects,
} from "./routing-options.js";
import { checkShardConfig } from "./shard-config-check.js";
import { DEFAULT_SHARD_COUNT, shardOf, validateShardCount } from "./shard-function.js";
import type { ClusterTransport } from "./transport.js";

export type {
  ClusterClientOptions,
  LocalHandler,
  LocalOutcome,
  SendOptions,
} from "./cluster-client-options.js";

/** The entity's idempotency-key limit (core's `validateIdempotencyKey`). */
const MAX_COMMAND_ID_LENGTH = 256;

/** How one attempt ended. */
type Attempt =
  | LocalOutcome
  | { readonly kind: "no-responders" }
  | { readonly kind: "timeout" }
  | { readonly kind: "failed"; readonly error: unknown };

/**
 * Sends commands to the owner of each entity's shard: over the transport to whoever serves the shard's
 * subject (or in-process when this process owns it), retrying `NotOwner`, `Overloaded`, "no owner" and
 * lost replies with jittered backoff until the command's budget is spent. Every attempt carries the same
 * command id, so the command is applied at most once. `ClusterNode.send` uses one; a process that hosts
 * no entities can use one on its own.
 */
export class ClusterClient {
  readonly typeName: string;
  readonly cluster: string;
  readonly shardCount: number;
  readonly #transport: ClusterTransport;
  readonly #subjects: Subjects;
  readonly #codec: ClusterCodec;
  readonly #retry: Retry;
  readonly #local: LocalHandler | undefined;
  readonly #nats: NatsConnection | undefined;
  #store: ClusterStore | undefined;
  #configChecked: boolean;
  #checking: Promise<void> | undefined;
  #mismatch: ShardConfigMismatchError | undefined;
  #stopped = false;

  /** Validates the options (`ConfigurationError`, `InvalidArgumentError`). */
  constructor(options: ClusterClientOptions) {
    if (typeof options !== "object" || options === null) {
      throw new InvalidArgumentError(`ClusterClient options must be an object, got ${String(options)}`);
    }
    if (typeof options.typeName !== "string" || !TYPE_NAME_PATTERN.test(options.typeName)) {
      throw new InvalidArgumentError(`invalid entity type name ${JSON.stringify(options.typeName)}`);
    }
    this.typeName = options.typeName;
    this.cluster = patternOption("cluster", options.cluster ?? "default", CLUSTER_NAME_PATTERN);
    this.shardCount = options.shardCount ?? DEFAULT_SHARD_COUNT;
    validateShardCount(this.shardCount);
    methodsOption("transport", options.transport, ["request", "serve", "publish", "subscribe"]);
    methodsOption("codec", options.codec, ["encode", "decode"]);
    methodsOption("store", options.store, ["recordShardConfig", "heartbeat", "members", "leave"]);
    if (options.transport === undefined && options.nats === undefined) {
      throw new ConfigurationError("give `nats` or `transport`", "nats", "ClusterClientOptions");
    }
    this.#transport = options.transport ?? new NatsTransport(options.nats!);
    this.#subjects = subjects(subjectPrefix(options.subjectPrefix), this.cluster, this.typeName);
    this.#codec = options.codec ?? jsonCodec;
    this.#retry = retryOptions(options.retry);
    new Backoff(this.#retry.backoff); // validates
    this.#local = options.local;
    this.#nats = options.nats;
    this.#store = options.store;
    this.#configChecked =
      options.shardConfigChecked === true || (options.store === undefined && options.nats === undefined);
  }

  /**
   * Checks this client's shard function (`shardCount`, hash) against the one recorded for the cluster and
   * rejects with `ShardConfigMismatchError` when they differ; every later `send` then rejects with it too.
   * A client never records it (a node does): while none is recorded the check passes and the next `send`
   * checks again. Optional: the first `send` does it otherwise.
   * Without `store` or `nats` there is nothing to check against and it resolves at once.
   */
  start(): Promise<void> {
    if (this.#mismatch !== undefined) return Promise.reject(this.#mismatch);
    if (this.#configChecked) return Promise.resolve();
    this.#checking ??= this.#checkShardConfig().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #checkShardConfig(): Promise<void> {
    this.#store ??= await NatsClusterStore.create(this.#nats!);
    try {
      // Until a node recorded the cluster's shard function there is nothing to check: the next send asks again.
      this.#configChecked = await checkShardConfig(this.#store, this.cluster, this.shardCount, false);
    } catch (error) {
      if (error instanceof ShardConfigMismatchError) this.#mismatch = error;
      throw error;
    }
  }

  /** The subjects this client sends to (shared with the node that serves them). */
  get subjects(): Subjects {
    return this.#subjects;
  }

  /** The transport this client sends over. */
  get transport(): ClusterTransport {
    return this.#transport;
  }

  /**
   * Routes `cmd` to the owner of entity `id` and resolves to its result: the entity's
   * `CmdResult`, or a `DuplicateResult` when an attempt with this `commandId` was applied before (its reply
   * was lost). Rejects with `InvalidArgumentError` (bad id or command id), `ClusterRoutingError` when the
   * budget ran out (see its `outcomeUnknown`), `RemoteCommandError` when the owner failed the command for
   * good, `ClusterStoppedError` once stopped (`ClusterRoutingError` with `outcomeUnknown` and that cause
   * when an earlier attempt may have applied the command), `ShardConfigMismatchError` when the client's
   * shard count is not the cluster's (see `start()`).
   */
  async send(
    id: string,
    cmd: unknown,
    options: SendOptions = {},
  ): Promise<CmdResult<unknown, unknown> | DuplicateResult> {
    validateId(id);
    validateCmd(cmd);
    if (typeof options !== "object" || options === null) {
      throw new InvalidArgumentError(`send options must be an object, got ${String(options)}`);
    }
    const commandId = options.commandId ?? randomUUID();
    try {
      validateIdempotencyKey(commandId); // the command id is the entity's idempotency key
    } catch (error) {
      throw new InvalidArgumentError(
        `commandId must be a string of 1 to ${MAX_COMMAND_ID_LENGTH} characters, well-formed Unicode, without NUL`,
        { cause: error },
      );
    }
    const budgetMs = options.timeoutMs ?? this.#retry.defaultTimeoutMs;
    if (!(Number.isFinite(budgetMs) && budgetMs > 0)) {
      throw new InvalidArgumentError(`timeoutMs must be a positive number, got ${String(budgetMs)}`);
    }
    if (!this.#configChecked) await this.start();
    const shard = shardOf(id, this.shardCount);
    const deadline = performance.now() + budgetMs;
    let backoff: Backoff | undefined;
    let encoded: Uint8Array | undefined;
    let attempts = 0;
    let outcomeUnknown = false;
    let last: Error | undefined;
    for (;;) {
      if (this.#stopped) {
        // After an attempt that may have applied the command, "it had no effect" would be a lie.
        if (outcomeUnknown) {
          throw new ClusterRoutingError(this.typeName, id, commandId, attempts, true, {
            cause: new ClusterStoppedError(this.typeName),
          });
        }
        throw new ClusterStoppedError(this.typeName);
      }
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        throw new ClusterRoutingError(this.typeName, id, commandId, attempts, outcomeUnknown, {
          cause: last,
        });
      }
      attempts++;
      const attemptMs = Math.min(remaining, this.#retry.attemptTimeoutMs);
      let outcome: Promise<Attempt> | undefined = this.#local?.(shard, id, commandId, cmd, attemptMs);
      const remote = outcome === undefined;
      if (outcome === undefined) {
        let request: Uint8Array;
        try {
          if (this.#codec === jsonCodec) {
            request = encodeJsonRequest(id, commandId, attemptMs, cmd);
          } else {
            encoded ??= this.#codec.encode(cmd);
            request = encodeRequest(id, commandId, attemptMs, encoded);
          }
        } catch (error) {
          // Before anything of this attempt was sent; an earlier attempt's outcome is still unknown.
          if (attempts > 1)
            throw new ClusterRoutingError(this.typeName, id, commandId, attempts - 1, outcomeUnknown, {
              cause: error,
            });
          throw new InvalidArgumentError(`the command cannot be encoded: ${String(error)}`, { cause: error });
        }
        outcome = this.#remote(shard, request, attemptMs);
      }
      let answer: Attempt;
      try {
        answer = await outcome;
      } catch (error) {
        // The transport is unusable (a closed connection): the reply, if any, is lost.
        answer = { kind: "failed", error };
      }
      switch (answer.kind) {
        case "result":
          return answer.result;
        case "not-owner":
          // Every subscriber of the shard's subject gets a request and the first reply wins (ADR 0129): a
          // former owner's NotOwner may have beaten the owner's reply to a command it applied.
          outcomeUnknown ||= remote;
          last = new NotOwnerError(this.typeName, id, shard);
          break;
        case "overloaded":
          last = new OverloadedError(this.typeName, id, answer.inFlight);
          break;
        case "no-responders":
          last = new NoOwnerError(this.typeName, id, shard);
          break;
        case "timeout":
          outcomeUnknown = true;
          last = new CommandTimeoutError(this.typeName, id, Math.round(attemptMs));
          break;
        case "failed":
          outcomeUnknown = true;
          last = answer.error instanceof Error ? answer.error : new Error(String(answer.error));
          break;
        case "error": {
          const { code, message, retryable } = answer.failure;
          const error = new RemoteCommandError(
            this.typeName,
            id,
            code,
            message,
            answer.failure.outcomeUnknown,
          );
          if (!retryable) throw error;
          outcomeUnknown ||= answer.failure.outcomeUnknown;
          last = error;
          break;
        }
      }
      backoff ??= new Backoff(this.#retry.backoff);
      const pause = Math.min(backoff.next(), deadline - performance.now());
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /**
   * Rejects every later `send` with `ClusterStoppedError` (sends under way finish their attempt; one whose
   * earlier attempt may have applied the command then rejects with `ClusterRoutingError`, `outcomeUnknown`).
   */
  stop(): void {
    this.#stopped = true;
  }

  async #remote(shard: number, request: Uint8Array, timeoutMs: number): Promise<Attempt> {
    const reply = await this.#transport.request(this.#subjects.shard(shard), request, timeoutMs);
    if (reply.kind !== "reply") return reply;
    if (reply.payload[0] === JSON_RESULT) {
      return { kind: "result", result: decodeJsonResult(reply.payload) as CmdResult<unknown, unknown> };
    }
    const routed = decodeReply(reply.payload);
    if (routed.kind !== "result") return routed;
    return { kind: "result", result: this.#codec.decode(routed.result) as CmdResult<unknown, unknown> };
  }
}
