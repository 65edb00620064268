import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { LeaseLogEntry } from "@eventsourced/leases";

const SCRIPT = fileURLToPath(new URL("../fixtures/nemesis-node.mjs", import.meta.url));

/** What every node of one harness run is configured with (see fixtures/nemesis-node.mjs). */
export interface NodeConfig {
  readonly natsUrl: string;
  readonly databaseUrl: string;
  readonly schema: string;
  readonly cluster: string;
  readonly typeName: string;
  readonly bucketPrefix: string;
  readonly shardCount: number;
  readonly ttlMs: number;
  readonly pollMs: number;
  readonly memberTtlMs: number;
  readonly rebalanceEveryMs: number;
  readonly minMembers: number;
  readonly strict: boolean;
  /** Where log and leases live: PostgreSQL (the schema) or the NATS server (the stream, a lease bucket). */
  readonly backend: "postgres" | "nats";
  readonly stream: string;
  /** Each node prints a `served` line per request delivered to one of its shard subscriptions. */
  readonly logServed?: boolean;
}

/** A shard acquisition or end reported by a node (times from `process.hrtime.bigint()`). */
export interface ShardEvent {
  readonly ev: "acquired" | "ended";
  readonly nodeId: string;
  readonly shard: number;
  readonly epoch: number;
  readonly at: bigint;
  readonly validUntil: bigint;
  readonly reason?: string;
}

/** A write acknowledged by the log to a node, under the tenure (shard, epoch); `at` is when it was sent. */
export interface WriteEvent {
  readonly nodeId: string;
  readonly shard: number;
  readonly epoch: number;
  readonly at: bigint;
}

/**
 * A request delivered to a node's shard subscription; `owner`: the node served the shard under a valid
 * tenure when it handled the delivery (`at`, which for a frozen node is after SIGCONT).
 */
export interface ServedEvent {
  readonly nodeId: string;
  readonly shard: number;
  readonly owner: boolean;
  readonly at: bigint;
}

/** Everything the nodes of one run reported, across their incarnations. */
export class RunRecord {
  readonly leaseLog: LeaseLogEntry[] = [];
  readonly shardEvents: ShardEvent[] = [];
  readonly writes: WriteEvent[] = [];
  /** Only with `NodeConfig.logServed`. */
  readonly served: ServedEvent[] = [];
  /** Latest stats line per incarnation. */
  readonly stats = new Map<string, { conflicts: number; ownershipLost: number }>();
}

/** One incarnation of a cluster node in its own process. */
export class ClusterProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;
  #stderr = "";

  constructor(
    readonly nodeId: string,
    config: NodeConfig,
    record: RunRecord,
  ) {
    this.child = spawn(process.execPath, [SCRIPT, JSON.stringify({ ...config, nodeId })], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4_000);
    });
    let ready!: () => void;
    const readyLine = new Promise<void>((resolve) => {
      ready = resolve;
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code) => resolve(code)));
    const early = this.exited.then((code) => {
      throw new Error(`node ${nodeId} exited with ${code} before ready:\n${this.#stderr}`);
    });
    early.catch(() => {});
    this.ready = Promise.race([readyLine, early]);
    createInterface({ input: this.child.stdout! }).on("line", (line) => {
      const msg = JSON.parse(line) as Record<string, unknown> & { ev: string };
      const big = (v: unknown) => BigInt(v as string);
      switch (msg.ev) {
        case "ready":
          ready();
          break;
        case "lease":
          record.leaseLog.push({
            event: msg.event as LeaseLogEntry["event"],
            key: msg.key as string,
            owner: msg.owner as string,
            epoch: msg.epoch as number,
            at: big(msg.at),
            validUntil: big(msg.validUntil),
          });
          break;
        case "acquired":
        case "ended":
          record.shardEvents.push({
            ev: msg.ev,
            nodeId,
            shard: msg.shard as number,
            epoch: msg.epoch as number,
            at: big(msg.at),
            validUntil: big(msg.validUntil),
            ...(msg.reason === undefined ? {} : { reason: msg.reason as string }),
          });
          break;
        case "write":
          record.writes.push({
            nodeId,
            shard: msg.shard as number,
            epoch: msg.epoch as number,
            at: big(msg.at),
          });
          break;
        case "served":
          record.served.push({
            nodeId,
            shard: msg.shard as number,
            owner: msg.owner as boolean,
            at: big(msg.at),
          });
          break;
        case "stats":
          record.stats.set(nodeId, {
            conflicts: msg.conflicts as number,
            ownershipLost: msg.ownershipLost as number,
          });
          break;
      }
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** kill -9, resolving once the process is gone. */
  async kill9(): Promise<void> {
    if (!this.alive) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }

  /** SIGSTOP, resolving once the kernel reports every thread stopped. */
  async pause(): Promise<void> {
    this.child.kill("SIGSTOP");
    const deadline = Date.now() + 5_000;
    while (readFileSync(`/proc/${this.child.pid}/stat`, "utf8").split(") ")[1]?.[0] !== "T") {
      if (Date.now() > deadline) throw new Error(`node ${this.nodeId} did not stop on SIGSTOP`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  resume(): void {
    this.child.kill("SIGCONT");
  }

  /** SIGTERM (graceful handover), resolving with the exit code; kill -9 after `graceMs`. */
  async terminate(graceMs = 30_000): Promise<number | null> {
    if (!this.alive) return this.child.exitCode;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  get stderr(): string {
    return this.#stderr;
  }
}
