import { randomUUID } from "node:crypto";
import { ConfigurationError } from "@eventsourced/core";
import { ProjectionFencedError } from "../errors.js";
import type {
  Advance,
  DeadLetter,
  Fence,
  OperatorRequest,
  ProjectionRow,
  ProjectionStore,
  StoredOperatorRequest,
  StoredProjectionStatus,
} from "../projection-store.js";
import { checkStoreArguments } from "../store-arguments.js";

/** A {@link ProjectionStore} in memory, for tests and at-least-once projections that may start over. */
export class InMemoryProjectionStore implements ProjectionStore {
  readonly #rows = new Map<string, ProjectionRow>();
  readonly #deadLetters = new Map<string, Map<number, DeadLetter>>();

  async claim(name: string, type: string, epoch: number): Promise<ProjectionRow> {
    const row = this.#rows.get(name) ?? { name, type, position: 0, epoch: 0, status: "running" as const };
    if (row.epoch > epoch) {
      throw new ProjectionFencedError(name, row.position, epoch, { detail: `claimed by epoch ${row.epoch}` });
    }
    if (row.type !== type) {
      throw new ConfigurationError(
        `projection ${JSON.stringify(name)} reads type ${row.type}, not ${type}`,
        "type",
        "options",
      );
    }
    const claimed = { ...row, epoch };
    this.#rows.set(name, claimed);
    return claimed;
  }

  async load(name: string): Promise<ProjectionRow | undefined> {
    return this.#rows.get(name);
  }

  async save(fence: Fence, advance: Advance): Promise<void> {
    const row = this.#rows.get(fence.name);
    if (row === undefined || row.position !== fence.position || row.epoch !== fence.epoch) {
      throw new ProjectionFencedError(fence.name, fence.position, fence.epoch);
    }
    const letters = this.#letters(fence.name);
    for (const letter of advance.deadLetters) {
      const before = letters.get(letter.position);
      letters.set(letter.position, {
        ...letter,
        attempts: (before?.attempts ?? 0) + letter.attempts,
        failedAt: new Date(),
      });
    }
    this.#rows.set(fence.name, {
      ...row,
      position: advance.position,
      lastEventAt: advance.lastEventAt ?? row.lastEventAt,
    });
  }

  async setStatus(name: string, status: StoredProjectionStatus, error?: string): Promise<void> {
    checkStoreArguments({ status });
    const row = this.#rows.get(name);
    if (row !== undefined)
      this.#rows.set(name, { ...row, status, error: status === "failed" ? error : undefined });
  }

  async reset(name: string, position: number): Promise<void> {
    checkStoreArguments({ position });
    const row = this.#rows.get(name);
    if (row !== undefined) this.#rows.set(name, { ...row, position, lastEventAt: undefined });
    const letters = this.#letters(name);
    for (const at of [...letters.keys()]) if (at > position) letters.delete(at);
  }

  async deadLetters(name: string): Promise<DeadLetter[]> {
    return [...this.#letters(name).values()].sort((a, b) => a.position - b.position);
  }

  async deleteDeadLetter(name: string, position: number): Promise<boolean> {
    checkStoreArguments({ position });
    return this.#letters(name).delete(position);
  }

  async request(name: string, request: OperatorRequest): Promise<StoredOperatorRequest | undefined> {
    checkStoreArguments({ request });
    const row = this.#rows.get(name);
    if (row === undefined) return undefined;
    const stored: StoredOperatorRequest = { ...request, id: randomUUID(), requestedAt: new Date() };
    this.#rows.set(name, { ...row, requests: [...(row.requests ?? []), stored] });
    return stored;
  }

  async completeRequest(name: string, id: string): Promise<void> {
    const row = this.#rows.get(name);
    if (row === undefined) return;
    const { requests = [], ...rest } = row;
    const left = requests.filter((r) => r.id !== id);
    this.#rows.set(name, left.length === 0 ? rest : { ...rest, requests: left });
  }

  #letters(name: string): Map<number, DeadLetter> {
    let letters = this.#deadLetters.get(name);
    if (letters === undefined) {
      letters = new Map();
      this.#deadLetters.set(name, letters);
    }
    return letters;
  }
}
