import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { lockDataDir, processStartTime } from "../src/data-dir-lock.js";

/** The built module the child processes lock with (`npm test` builds first). */
const LOCK_JS_URL = new URL("../dist/data-dir-lock.js", import.meta.url);

/** How long to wait for a child's line at most; only reached when something is wrong. */
const CHILD_TIMEOUT_MS = 30_000;

const dirs: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "counter-lock-"));
  dirs.push(dir);
  return dir;
}

/**
 * A child that loads the lock, says `ready`, and on its first line of stdin tries to lock `dir`: it says
 * `ok <pid>` and holds the directory until its stdin ends (or it is killed), or says `err <message>` and exits.
 */
const CHILD_SCRIPT = `
const [url, dir] = process.argv.slice(1);
const { lockDataDir } = await import(url);
process.stdout.write("ready\\n");
process.stdin.once("data", async () => {
  try {
    const release = await lockDataDir(dir);
    process.stdout.write("ok " + process.pid + "\\n");
    process.stdin.once("end", () => { release(); process.exit(0); });
  } catch (error) {
    process.stdout.write("err " + error.message + "\\n");
    process.exit(0);
  }
});
`;

/** A locking child, with its stdout read line by line. */
interface LockChild {
  readonly process: ChildProcessWithoutNullStreams;
  /** The next line the child writes (bounded wait). */
  nextLine(): Promise<string>;
}

function startLockChild(dir: string): LockChild {
  if (!existsSync(LOCK_JS_URL)) {
    throw new Error(
      `${fileURLToPath(LOCK_JS_URL)} is missing: build it with \`npx tsc -b examples/counter\``,
    );
  }
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD_SCRIPT, LOCK_JS_URL.href, dir]);
  children.push(child);
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffered = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    buffered += text;
    for (let end = buffered.indexOf("\n"); end >= 0; end = buffered.indexOf("\n")) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  return {
    process: child,
    nextLine: () => {
      const line = lines.shift();
      if (line !== undefined) return Promise.resolve(line);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(new Error(`child ${child.pid} said nothing in ${CHILD_TIMEOUT_MS} ms; stderr: ${stderr}`)),
          CHILD_TIMEOUT_MS,
        );
        waiting.push((text) => {
          clearTimeout(timer);
          resolve(text);
        });
      });
    },
  };
}

/** Kills `child` with SIGKILL and waits until it is gone (reaped: its pid is no longer its). */
function killHard(child: ChildProcessWithoutNullStreams): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

/** A process that started and ended: its pid and start time, as its lock file would have named it. */
async function goneProcess(): Promise<{ pid: number; startTime: string | undefined }> {
  const child = spawn(process.execPath, ["-e", "process.stdin.resume()"]);
  children.push(child);
  const pid = child.pid ?? Number.NaN;
  const startTime = processStartTime(pid);
  await new Promise((resolve) => {
    child.once("exit", resolve);
    child.stdin.end();
  });
  return { pid, startTime };
}

describe.each([
  { mode: "kernel lock and lock file", options: {} },
  { mode: "lock file alone (elsewhere than on Linux)", options: { kernelLock: false } },
])("the embedded database's data directory lock, $mode", ({ options }) => {
  it("is taken and released", async () => {
    const dir = dataDir();
    const release = await lockDataDir(dir, options);
    expect(readFileSync(join(dir, "counter.lock"), "utf8").trim()).toBe(
      `${process.pid} ${processStartTime(process.pid)}`,
    );
    release();
    expect(existsSync(join(dir, "counter.lock"))).toBe(false);
  });

  it("refuses a directory held by another running process, naming it", async () => {
    const dir = dataDir();
    writeFileSync(join(dir, "counter.lock"), `${process.ppid}\n`);
    await expect(lockDataDir(dir, options)).rejects.toThrow(`process ${process.ppid} is using it`);
  });

  it("refuses a directory held by another running process named by pid and start time", async () => {
    const dir = dataDir();
    writeFileSync(join(dir, "counter.lock"), `${process.ppid} ${processStartTime(process.ppid)}\n`);
    await expect(lockDataDir(dir, options)).rejects.toThrow(`process ${process.ppid} is using it`);
  });

  it("takes over a lock whose pid now belongs to another process (the holder died, its pid was reused)", async () => {
    const dir = dataDir();
    // The parent runs, but it did not start at tick 1: the lock's holder is gone.
    writeFileSync(join(dir, "counter.lock"), `${process.ppid} 1\n`);
    (await lockDataDir(dir, options))();
  });

  it("takes over a lock left by a process that no longer runs", async () => {
    const dir = dataDir();
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    writeFileSync(join(dir, "counter.lock"), `${gone.stdout}\n`);
    (await lockDataDir(dir, options))();
  });

  it("takes over a lock naming by pid and start time a process that no longer runs", async () => {
    const dir = dataDir();
    const gone = await goneProcess();
    writeFileSync(join(dir, "counter.lock"), `${gone.pid} ${gone.startTime ?? ""}\n`);
    const release = await lockDataDir(dir, options);
    expect(readFileSync(join(dir, "counter.lock"), "utf8").trim()).toBe(
      `${process.pid} ${processStartTime(process.pid)}`,
    );
    release();
  });
});

describe("the embedded database's data directory lock", () => {
  it.runIf(process.platform === "linux")(
    "is not taken twice by one process, and is free again once released",
    async () => {
      const dir = dataDir();
      const release = await lockDataDir(dir);
      await expect(lockDataDir(dir)).rejects.toThrow(`process ${process.pid} is using it`);
      release();
      (await lockDataDir(dir))();
    },
  );

  it("refuses a directory another process holds, naming it, until that process releases it", async () => {
    const dir = dataDir();
    const holder = startLockChild(dir);
    expect(await holder.nextLine()).toBe("ready");
    holder.process.stdin.write("go\n");
    expect(await holder.nextLine()).toBe(`ok ${holder.process.pid}`);
    await expect(lockDataDir(dir)).rejects.toThrow(`process ${holder.process.pid} is using it`);
    holder.process.stdin.end();
    await new Promise((resolve) => holder.process.once("exit", resolve));
    (await lockDataDir(dir))();
  });

  it("is free for the next process once its holder is killed with SIGKILL", async () => {
    const dir = dataDir();
    const holder = startLockChild(dir);
    expect(await holder.nextLine()).toBe("ready");
    holder.process.stdin.write("go\n");
    expect(await holder.nextLine()).toBe(`ok ${holder.process.pid}`);
    await killHard(holder.process);
    // The killed holder's lock file stays behind, naming it.
    expect(readFileSync(join(dir, "counter.lock"), "utf8")).toMatch(new RegExp(`^${holder.process.pid} `));
    const next = startLockChild(dir);
    expect(await next.nextLine()).toBe("ready");
    next.process.stdin.write("go\n");
    expect(await next.nextLine()).toBe(`ok ${next.process.pid}`);
  });

  it.runIf(process.platform === "linux")(
    "is held by the kernel: a holder whose lock file was deleted still holds the directory",
    async () => {
      const dir = dataDir();
      const holder = startLockChild(dir);
      expect(await holder.nextLine()).toBe("ready");
      holder.process.stdin.write("go\n");
      expect(await holder.nextLine()).toBe(`ok ${holder.process.pid}`);
      rmSync(join(dir, "counter.lock"));
      await expect(lockDataDir(dir)).rejects.toThrow(`process ${holder.process.pid} is using it`);
    },
  );

  it.runIf(process.platform === "linux")(
    "is an abstract socket name filling the whole address, the same to every Node.js version",
    async () => {
      const dir = dataDir();
      const release = await lockDataDir(dir);
      try {
        const names = readFileSync("/proc/net/unix", "utf8")
          .split("\n")
          .map((line) => line.split(" ").at(-1) ?? "")
          .filter((name) => name.startsWith("@eventsourced-counter-"));
        // Shown with "@" for each NUL: one leading NUL, then 107 characters and no NUL padding.
        expect(names.some((name) => name.length === 108 && !name.slice(1).includes("@"))).toBe(true);
      } finally {
        release();
      }
    },
  );

  it.runIf(process.platform === "linux")(
    "goes to exactly one of many processes starting at once after its holder was killed with SIGKILL",
    async () => {
      const dir = dataDir();
      const starters = 8;
      // Round 0 starts on a lock file left by a process that ended; each later round on the one left by
      // the previous round's winner, killed with SIGKILL while it held the directory.
      const gone = await goneProcess();
      writeFileSync(join(dir, "counter.lock"), `${gone.pid} ${gone.startTime ?? ""}\n`);
      for (let round = 0; round < 5; round++) {
        const group = Array.from({ length: starters }, () => startLockChild(dir));
        for (const child of group) expect(await child.nextLine()).toBe("ready");
        // All loaded: let them go together.
        for (const child of group) child.process.stdin.write("go\n");
        const results = await Promise.all(group.map((child) => child.nextLine()));
        const winners = group.filter((_, i) => results[i]?.startsWith("ok "));
        expect(winners, `round ${round}: ${results.join(" | ")}`).toHaveLength(1);
        const winner = winners[0] as LockChild;
        expect(results[group.indexOf(winner)]).toBe(`ok ${winner.process.pid}`);
        for (const [i, result] of results.entries()) {
          // Each loser names the winner (or, had the winner not answered in time, no one).
          if (group[i] !== winner) {
            expect(result).toMatch(
              new RegExp(`^err (process ${winner.process.pid}|another process) is using it`),
            );
          }
        }
        await killHard(winner.process);
      }
    },
    120_000,
  );
});
