import { afterEach, describe, expect, it, vi } from "vitest";
import { terminalLogger } from "../src/terminal-logger.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the counter's terminal logger", () => {
  it("writes one line per warning: fields as key=value, an error as its message without a stack", () => {
    const written: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const error = new Error("cannot decode\nevent 1");
    terminalLogger.warn("recovery failed", { id: "counter-0", retryInMs: 5, error, big: 2n ** 70n });
    terminalLogger.debug("dropped");
    expect(written).toEqual([
      '[eventsourced] WARN recovery failed id="counter-0" retryInMs=5 error="cannot decode\\nevent 1" big="1180591620717411303424"\n',
    ]);
  });
});
