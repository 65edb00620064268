import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lockDataDir, processStartTime } from "../src/data-dir-lock.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "counter-lock-"));
  dirs.push(dir);
  return dir;
}

describe("the embedded database's data directory lock", () => {
  it("is taken and released", () => {
    const dir = dataDir();
    const release = lockDataDir(dir);
    expect(readFileSync(join(dir, "counter.lock"), "utf8").trim()).toBe(
      `${process.pid} ${processStartTime(process.pid)}`,
    );
    release();
    expect(existsSync(join(dir, "counter.lock"))).toBe(false);
  });

  it("refuses a directory held by another running process, naming it", () => {
    const dir = dataDir();
    writeFileSync(join(dir, "counter.lock"), `${process.ppid}\n`);
    expect(() => lockDataDir(dir)).toThrow(`process ${process.ppid} is using it`);
  });

  it("refuses a directory held by another running process named by pid and start time", () => {
    const dir = dataDir();
    writeFileSync(join(dir, "counter.lock"), `${process.ppid} ${processStartTime(process.ppid)}\n`);
    expect(() => lockDataDir(dir)).toThrow(`process ${process.ppid} is using it`);
  });

  it("takes over a lock whose pid now belongs to another process (the holder died, its pid was reused)", () => {
    const dir = dataDir();
    // The parent runs, but it did not start at tick 1: the lock's holder is gone.
    writeFileSync(join(dir, "counter.lock"), `${process.ppid} 1\n`);
    lockDataDir(dir)();
  });

  it("takes over a lock left by a process that no longer runs", () => {
    const dir = dataDir();
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    writeFileSync(join(dir, "counter.lock"), `${gone.stdout}\n`);
    lockDataDir(dir)();
  });
});
