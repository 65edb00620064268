import { describe, expect, it } from "vitest";
import { replaceMarkedBlock } from "../src/write-report.js";

describe("replaceMarkedBlock", () => {
  it("replaces only the text between the markers", () => {
    const text = "intro\n<!-- x:start -->\nold\n<!-- x:end -->\noutro\n";
    expect(replaceMarkedBlock(text, "x", "new\n")).toBe(text.replace("\nold\n", "\nnew\n"));
  });

  it("leaves a document without both markers unchanged", () => {
    expect(replaceMarkedBlock("no markers", "x", "new")).toBe("no markers");
    const reversed = "<!-- x:end --> <!-- x:start -->";
    expect(replaceMarkedBlock(reversed, "x", "new")).toBe(reversed);
  });
});
