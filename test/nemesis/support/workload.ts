import type { ClusterClient } from "@eventsourced/cluster";

/** How hard the clients push. */
export interface WorkloadOptions {
  readonly entities: readonly string[];
  /** Concurrent clients. */
  readonly concurrency: number;
  /** Commands per second, all clients together (a ceiling: each client waits for its answers). */
  readonly ratePerSec: number;
  /** The budget of one command, retries included. */
  readonly commandTimeoutMs: number;
}

/** What the clients saw. */
export interface Tally {
  sent: number;
  acked: number;
  /** Commands whose outcome is unknown to the client (retry budget exhausted): may or may not be applied. */
  unknown: number;
  reads: number;
  staleReads: number;
  asserts: number;
  wrongRejections: number;
  errors: Map<string, number>;
}

/**
 * Clients sending to the cluster from the test process, which sees every answer: `add` commands carry a
 * unique tag (also the command id), `get` reads the count and `atLeast` asserts it. A model keeps, per
 * entity, the highest seqNo acknowledged so far; a read (or assertion) sent after it must reflect it, or it
 * is stale (a wrong rejection, for the assertion).
 */
export class Workload {
  /** tag -> (entity, seqNo) of every acknowledged add. */
  readonly acked = new Map<string, { readonly id: string; readonly seqNo: number }>();
  readonly tally: Tally = {
    sent: 0,
    acked: 0,
    unknown: 0,
    reads: 0,
    staleReads: 0,
    asserts: 0,
    wrongRejections: 0,
    errors: new Map(),
  };
  readonly #known = new Map<string, number>();
  readonly #client: ClusterClient;
  readonly #options: WorkloadOptions;
  #running = false;
  #workers: Promise<void>[] = [];

  constructor(client: ClusterClient, options: WorkloadOptions) {
    this.#client = client;
    this.#options = options;
  }

  start(): void {
    this.#running = true;
    this.#workers = Array.from({ length: this.#options.concurrency }, (_, w) => this.#worker(w));
  }

  /** Stops sending and waits for the commands in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#workers);
  }

  async #worker(w: number): Promise<void> {
    const { entities, concurrency, ratePerSec } = this.#options;
    const intervalMs = (concurrency * 1000) / ratePerSec;
    for (let n = 0; this.#running; n++) {
      const started = Date.now();
      const id = entities[Math.floor(Math.random() * entities.length)]!;
      const roll = Math.random();
      if (roll < 0.7) await this.#add(id, `w${w}-${n}`);
      else if (roll < 0.9) await this.#get(id);
      else await this.#atLeast(id);
      const wait = intervalMs * (0.5 + Math.random()) - (Date.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  async #add(id: string, tag: string): Promise<void> {
    this.tally.sent++;
    try {
      const result = await this.#client.send(
        id,
        { type: "add", tag },
        { commandId: tag, timeoutMs: this.#options.commandTimeoutMs },
      );
      if (result.kind === "accepted" || result.kind === "duplicate") {
        this.acked.set(tag, { id, seqNo: result.seqNo });
        this.tally.acked++;
        this.#known.set(id, Math.max(this.#known.get(id) ?? 0, result.seqNo));
      } else {
        this.#error(`add rejected: ${JSON.stringify(result)}`);
      }
    } catch (err) {
      this.tally.unknown++;
      this.#error(err);
    }
  }

  async #get(id: string): Promise<void> {
    const known = this.#known.get(id) ?? 0;
    this.tally.sent++;
    try {
      const result = await this.#client.send(
        id,
        { type: "get" },
        { timeoutMs: this.#options.commandTimeoutMs },
      );
      this.tally.reads++;
      if (result.kind !== "accepted" || (result.reply as number) < known) this.tally.staleReads++;
    } catch (err) {
      this.#error(err);
    }
  }

  async #atLeast(id: string): Promise<void> {
    const n = this.#known.get(id) ?? 0;
    this.tally.sent++;
    try {
      const result = await this.#client.send(
        id,
        { type: "atLeast", n },
        { timeoutMs: this.#options.commandTimeoutMs },
      );
      this.tally.asserts++;
      if (result.kind === "rejected") this.tally.wrongRejections++;
    } catch (err) {
      this.#error(err);
    }
  }

  #error(err: unknown): void {
    const code =
      (err as { code?: string }).code ?? (err instanceof Error ? err.message.slice(0, 80) : String(err));
    this.tally.errors.set(code, (this.tally.errors.get(code) ?? 0) + 1);
  }
}
