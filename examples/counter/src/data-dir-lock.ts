import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const LOCK_FILE = "counter.lock";

/**
 * When process `pid` started, in clock ticks since boot (`/proc/<pid>/stat`, field 22), or undefined where
 * there is no `/proc` (or no such process). With the pid it names one process for good: a pid can be
 * reused after its process ended, a (pid, start time) pair cannot.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

function isRunning(pid: number, startTime: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (startTime === undefined) return true;
  const now = processStartTime(pid);
  // Another process that got the same pid after the holder ended does not hold the directory.
  return now === undefined || now === startTime;
}

/**
 * Claims the embedded database's data directory for this process: PGlite has no lock of its own, and two
 * processes writing one directory would corrupt it. The lock file names this process by pid and start time;
 * a lock left by a process that no longer runs (killed with SIGKILL, say), even if its pid was reused since,
 * is taken over.
 * @returns a function that releases the lock.
 * @throws Error naming the process that holds the directory.
 */
export function lockDataDir(dataDir: string): () => void {
  const path = join(dataDir, LOCK_FILE);
  const self = `${process.pid} ${processStartTime(process.pid) ?? ""}`.trim();
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${self}\n`, { flag: "wx" });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const [pidText, startTime] = readFileSync(path, "utf8").trim().split(/\s+/);
      const holder = Number.parseInt(pidText ?? "", 10);
      if (Number.isInteger(holder) && holder !== process.pid && isRunning(holder, startTime)) {
        throw new Error(`process ${holder} is using it (${path})`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`cannot create ${path}`);
}
