import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("../dist/cluster/cluster-main.js", import.meta.url));

// `npm run counter:cluster`, as a user runs it (built dist/): run by `npm run test:nemesis`, not `npm test`.
describe("the counter on a cluster of three processes", () => {
  it("verifies every acknowledged command after one process is killed with SIGKILL mid-run", async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, COUNTERS: "100", RUN_SECONDS: "6", CONCURRENCY: "8", THROUGHPUT_SECONDS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    console.log(out);
    expect(code, out).toBe(0);
    expect(out).toMatch(/1 process \d+ commands\/s, 3 processes \d+ commands\/s/);
    expect(out).toMatch(/killed node-\d \(kill -9\) holding \d+ shards/);
    expect(out).toContain("verified: every acknowledged increment");
  });
});
