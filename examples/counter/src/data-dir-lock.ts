import { createHash, randomBytes } from "node:crypto";
import { linkSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";

const LOCK_FILE = "counter.lock";

/** How long a starter that lost waits for the holder to say who it is. */
const ASK_HOLDER_TIMEOUT_MS = 1_000;

/** Fields 3 onward of `/proc/<pid>/stat` (field 3 is the state, 22 the start time), or undefined. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/**
 * When process `pid` started, in clock ticks since boot (`/proc/<pid>/stat`, field 22), or undefined where
 * there is no `/proc` (or no such process). With the pid it names one process for good: a pid can be
 * reused after its process ended, a (pid, start time) pair cannot.
 */
export function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

function isRunning(pid: number, startTime: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const stat = procStat(pid);
  // A zombie (ended, not yet reaped by its parent) holds nothing; signal 0 still reaches it.
  if (stat?.[0] === "Z" || stat?.[0] === "X") return false;
  if (startTime === undefined) return true;
  const now = stat?.[19];
  // Another process that got the same pid after the holder ended does not hold the directory.
  return now === undefined || now === startTime;
}

/** The pid in a lock file's text if it names a process that still runs (and is not this one). */
function runningHolder(text: string | undefined): number | undefined {
  const [pidText, startTime] = (text ?? "").trim().split(/\s+/);
  const holder = Number.parseInt(pidText ?? "", 10);
  return Number.isInteger(holder) && holder !== process.pid && isRunning(holder, startTime)
    ? holder
    : undefined;
}

function readLockFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function heldError(holder: number | undefined, path: string): Error {
  return new Error(
    holder === undefined
      ? `another process is using it (${path})`
      : `process ${holder} is using it (${path})`,
  );
}

/** The length of a Unix socket address's path on Linux (`sizeof(sockaddr_un.sun_path)`). */
const SUN_PATH_LENGTH = 108;

/**
 * The abstract socket name of a data directory: one per directory, whatever path (symbolic links) leads
 * to it. It fills the whole socket address, so that it is the same name to Node.js versions whose libuv
 * pads abstract names with NULs to the full length (Node.js 20) and to those that pass their exact length.
 */
function socketName(dataDir: string): string {
  const hash = createHash("sha512").update(realpathSync(dataDir)).digest("hex");
  return `\0eventsourced-counter-${hash}`.slice(0, SUN_PATH_LENGTH);
}

/** Listens on `name`: the server, or the listen error. */
function listen(name: string, self: string): Promise<Server | NodeJS.ErrnoException> {
  return new Promise((resolve) => {
    const server = createServer((socket) => {
      // A starter that lost asks who holds the directory: tell it, then hang up.
      socket.on("error", () => {});
      socket.setTimeout(ASK_HOLDER_TIMEOUT_MS, () => socket.destroy());
      socket.unref();
      socket.end(`${self}\n`);
    });
    server.once("error", resolve);
    // exclusive: in a node:cluster worker, never share the primary's handle with other workers.
    server.listen({ path: name, exclusive: true }, () => {
      server.removeListener("error", resolve);
      server.on("error", () => {});
      server.unref();
      resolve(server);
    });
  });
}

/**
 * What the process listening on `name` says it is ("pid starttime"), `"gone"` when nothing listens there
 * any more (the holder released it meanwhile), undefined when it did not answer.
 */
function askHolder(name: string): Promise<string | "gone" | undefined> {
  return new Promise((resolve) => {
    let text = "";
    const socket = connect({ path: name });
    socket.setEncoding("utf8");
    socket.setTimeout(ASK_HOLDER_TIMEOUT_MS, () => {
      socket.destroy();
      resolve(undefined);
    });
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("end", () => {
      socket.destroy();
      resolve(text);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      resolve(error.code === "ECONNREFUSED" || error.code === "ENOENT" ? "gone" : undefined);
    });
  });
}

/** Listen errors that mean there are no abstract sockets to lock with here: the lock file alone is left. */
const NO_ABSTRACT_SOCKETS = new Set([
  "EAFNOSUPPORT",
  "EPROTONOSUPPORT",
  "ENOTSUP",
  "EOPNOTSUPP",
  "EINVAL",
  "EACCES",
  "EPERM",
]);

/** How many times a starter that found the name in use but nobody listening tries again, and how long it waits. */
const GONE_RETRIES = 8;
const GONE_RETRY_BASE_MS = 5;

/**
 * Takes the kernel-held lock of `dataDir`: the server listening on its abstract socket, or undefined where
 * sockets cannot lock (listening failed as it does where there are no abstract sockets).
 * @throws Error naming the holder when another process has the name, or the listen error.
 */
async function holdSocket(dataDir: string, path: string, self: string): Promise<Server | undefined> {
  const name = socketName(dataDir);
  for (let attempt = 0; ; attempt++) {
    const result = await listen(name, self);
    if (!(result instanceof Error)) return result;
    if (result.code !== undefined && NO_ABSTRACT_SOCKETS.has(result.code)) return undefined;
    if (result.code !== "EADDRINUSE") throw result;
    const answer = await askHolder(name);
    // Nobody listens: the holder let go since our listen, or has bound the name and not yet listened on it
    // (a moment, unless it is descheduled in between). Try again, waiting a little longer each time.
    if (answer === "gone" && attempt < GONE_RETRIES) {
      await new Promise((resolve) => setTimeout(resolve, GONE_RETRY_BASE_MS * 2 ** attempt));
      continue;
    }
    const [pidText] = (answer === "gone" ? "" : (answer ?? "")).trim().split(/\s+/);
    const holder = Number.parseInt(pidText ?? "", 10);
    throw heldError(Number.isInteger(holder) ? holder : runningHolder(readLockFile(path)), path);
  }
}

/** A name next to the lock file that no other process writes (pids repeat across pid namespaces). */
function tempPath(path: string): string {
  return `${path}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
}

/** Writes the lock file whole (a reader never sees it half written), replacing any. */
function writeLockFile(path: string, self: string): void {
  const temp = tempPath(path);
  writeFileSync(temp, `${self}\n`);
  renameSync(temp, path);
}

/** Creates the lock file only if there is none; false if there is one. */
function createLockFile(path: string, self: string): boolean {
  const temp = tempPath(path);
  writeFileSync(temp, `${self}\n`);
  try {
    // link() fails if the name exists, and the file appears with its content already in it.
    linkSync(temp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw error;
    // A file system without hard links: create it exclusively, then write it.
    try {
      writeFileSync(path, `${self}\n`, { flag: "wx" });
      return true;
    } catch (fallbackError) {
      if ((fallbackError as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw fallbackError;
    }
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * The lock file alone (no kernel lock): create it, or take it over from a holder that no longer runs.
 * Not atomic: two starters that both find a stale file can both take it over.
 */
function claimFileOnly(path: string, self: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (createLockFile(path, self)) return;
    const holder = runningHolder(readLockFile(path));
    if (holder !== undefined) throw heldError(holder, path);
    rmSync(path, { force: true });
  }
  throw new Error(`cannot create ${path}`);
}

/**
 * Claims the embedded database's data directory for this process: PGlite has no lock of its own, and two
 * processes writing one directory would corrupt it.
 *
 * On Linux the lock is held by the kernel: for the whole run the process listens on an abstract Unix socket
 * named after the directory's real path. Only one process can listen on a name, and the kernel lets go of it
 * when its process ends, even killed with SIGKILL; so of any number of processes starting at once exactly
 * one gets the directory, and a killed holder's lock is free at once. A lock file in the directory
 * (`counter.lock`: pid and start time) names the holder, and is a second layer for processes the socket
 * cannot see: abstract sockets are per network namespace, so two containers sharing the directory as a
 * volume, or a counter of an older version, only see each other's lock file. A lock file whose process no
 * longer runs (killed with SIGKILL, say), even if its pid was reused since, is taken over.
 *
 * Limitations: elsewhere than on Linux (macOS has no abstract sockets), and across network namespaces,
 * only the lock file guards the directory, and taking over a stale one is not atomic: two processes
 * started at the same moment after the holder was killed can both take it over. Any local user of the
 * network namespace can listen on the socket name first and so keep the counter from the directory.
 * Another path to the same directory through a bind mount has its own socket name (the lock file still
 * guards it, as above).
 * @param options.kernelLock - false: the lock file alone, as where there is no kernel lock (for tests).
 * @returns a function that releases the lock.
 * @throws Error naming the process that holds the directory (`process N is using it (path)`).
 */
export async function lockDataDir(
  dataDir: string,
  options: { readonly kernelLock?: boolean } = {},
): Promise<() => void> {
  const path = join(dataDir, LOCK_FILE);
  const self = `${process.pid} ${processStartTime(process.pid) ?? ""}`.trim();
  const kernelLock = (options.kernelLock ?? true) && process.platform === "linux";
  const server = kernelLock ? await holdSocket(dataDir, path, self) : undefined;
  try {
    if (server === undefined) {
      claimFileOnly(path, self);
    } else {
      // Nobody in this network namespace holds the directory; a holder elsewhere has its lock file here.
      const holder = runningHolder(readLockFile(path));
      if (holder !== undefined) throw heldError(holder, path);
      writeLockFile(path, self);
    }
  } catch (error) {
    server?.close();
    throw error;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    try {
      // Only our own: a holder in another network namespace may have written its own since.
      if (readLockFile(path)?.trim() === self) rmSync(path, { force: true });
    } finally {
      // After the file: the next holder, once it has the socket, writes its file and must keep it.
      server?.close();
    }
  };
}
