import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { QUICKSTART_OUTPUT, quickstart } from "./readme-quickstart.js";

it("the README quickstart runs: per-command replies, a rejection, then the same state recovered from the log", async () => {
  expect(await quickstart()).toEqual(QUICKSTART_OUTPUT);
});

it("the README shows what the quickstart returns", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  expect(readme).toContain(`\`\`\`text\n${QUICKSTART_OUTPUT.join("\n")}\n\`\`\``);
});
