import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { LeaseLogEntry } from "@eventsourced/leases";
import { parseLeaseLogLine } from "@eventsourced/leases/testing";
import { LineProcess } from "../../../../test/support/line-process.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/keeper-process.mjs", import.meta.url));
const BUILT = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

/** Fails with what to do when the package has not been built (child processes run `dist/`). */
export function requireBuild(): void {
  if (!existsSync(BUILT)) {
    throw new Error(
      "these tests run the built package: run `npm run build` (or `npx tsc -b packages/leases`)",
    );
  }
}

/** A `LeaseKeeper` in a child process (`fixtures/keeper-process.mjs`) and what it printed so far. */
export class KeeperProcess extends LineProcess {
  readonly log: LeaseLogEntry[] = [];
  readonly work: bigint[] = [];
  readonly lost: string[] = [];

  constructor(name: string, args: readonly string[]) {
    super(name, FIXTURE, args);
  }

  /** The owner id, once it logged anything. */
  get owner(): string | undefined {
    return this.log[0]?.owner;
  }

  acquisitions(): LeaseLogEntry[] {
    return this.log.filter((e) => e.event === "acquired");
  }

  /** Kills the process (SIGCONT first, in case it is stopped) and waits for its exit. */
  stop(): Promise<void> {
    return this.end("SIGKILL");
  }

  protected onLine(line: string): void {
    if (line.startsWith("log ")) this.log.push(parseLeaseLogLine(line.slice(4)));
    else if (line.startsWith("work ")) this.work.push(BigInt(line.slice(5)));
    else if (line.startsWith("lost ")) this.lost.push(line.slice(5));
  }
}
