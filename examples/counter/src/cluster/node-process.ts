import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./cluster-node-main.js", import.meta.url));

/** A shard event printed by a node (`at` from `process.hrtime.bigint()`). */
export interface ShardLine {
  readonly node: string;
  readonly ev: "acquired" | "ended";
  readonly shard: number;
  readonly epoch: number;
  readonly at: bigint;
}

/** One counter cluster node in its own process. */
export class NodeProcess {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  readonly #exited: Promise<number | null>;
  readonly #held = new Map<number, number>();

  constructor(
    args: readonly string[],
    readonly name: string,
    lines: ShardLine[],
  ) {
    this.child = spawn(process.execPath, [SCRIPT, ...args], { stdio: ["ignore", "pipe", "inherit"] });
    this.#exited = new Promise((resolve) => this.child.once("exit", resolve));
    this.ready = new Promise((resolve, reject) => {
      this.#exited.then((code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
      createInterface({ input: this.child.stdout! }).on("line", (text) => {
        const raw = JSON.parse(text) as { ev: string; shard: number; epoch: number; at: string };
        if (raw.ev === "ready") return resolve();
        const line = {
          node: name,
          ev: raw.ev as ShardLine["ev"],
          shard: raw.shard,
          epoch: raw.epoch,
          at: BigInt(raw.at),
        };
        lines.push(line);
        if (line.ev === "acquired") this.#held.set(line.shard, line.epoch);
        else if (this.#held.get(line.shard) === line.epoch) this.#held.delete(line.shard);
      });
    });
  }

  /** The shards this node reported holding. */
  shards(): number[] {
    return [...this.#held.keys()];
  }

  async kill9(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.#exited;
  }

  /** SIGTERM: hands its shards over; SIGKILL after 20 s. */
  async terminate(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 20_000);
    await this.#exited;
    clearTimeout(timer);
  }
}
