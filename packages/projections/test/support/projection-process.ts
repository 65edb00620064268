import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { LineProcess } from "../../../../test/support/line-process.js";

const BUILT = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

/** Fails with what to do when the package has not been built (child processes run `dist/`). */
export function requireBuild(): void {
  if (!existsSync(BUILT)) {
    throw new Error("these tests run the built package: run `npm run build` (or `npx tsc -b`)");
  }
}

/** A projection fixture (`test/fixtures/*.mjs`) in a child process, and the lines it printed so far. */
export class ProjectionProcess extends LineProcess {
  /** Every stdout line with the monotonic time it arrived. */
  readonly lines: { readonly line: string; readonly at: bigint }[] = [];

  constructor(name: string, fixture: URL, env: Record<string, string>) {
    super(name, fileURLToPath(fixture), [], env);
  }

  protected onLine(line: string, at: bigint): void {
    this.lines.push({ line, at });
  }

  /** Lines starting with `prefix ` (the prefix removed), with their arrival times. */
  find(prefix: string): { readonly rest: string; readonly at: bigint }[] {
    return this.lines
      .filter((l) => l.line.startsWith(`${prefix} `) || l.line === prefix)
      .map((l) => ({ rest: l.line.slice(prefix.length + 1), at: l.at }));
  }
}
