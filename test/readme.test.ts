import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { quickstart } from "./readme-quickstart.js";

const root = new URL("../", import.meta.url);

function region(source: string, name: string): string {
  const match = source.match(new RegExp(`// #region ${name}\\n([\\s\\S]*?)// #endregion ${name}`));
  if (!match?.[1]) throw new Error(`region ${name} not found`);
  return match[1].trim();
}

describe("README", () => {
  it("shows the quickstart exactly as the tested file has it", () => {
    const readme = readFileSync(new URL("README.md", root), "utf8");
    const code = region(readFileSync(new URL("test/readme-quickstart.ts", root), "utf8"), "quickstart");
    expect(readme).toContain(`\`\`\`ts\n${code}\n\`\`\``);
  });

  it("runs the quickstart: accepted, rejected, then recovered from the log", async () => {
    expect(await quickstart()).toEqual([
      "balance 100 at seqNo 1",
      "rejected: insufficient-funds",
      "recovered balance 100",
    ]);
  });
});
