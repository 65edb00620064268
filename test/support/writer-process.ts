import { type ChildProcess, spawn } from "node:child_process";

/** What a writer fixture (`test/fixtures/*-writer.mjs`) prints as its last line: its acknowledged commands. */
export interface WriterReport {
  readonly acked: readonly { readonly tag: string; readonly seqNo: number }[];
  readonly failed: readonly string[];
  readonly conflictRetries: number;
}

/** A writer running in its own Node process, as a second application instance would. */
export interface WriterProcess {
  readonly child: ChildProcess;
  /** Resolves when the writer has spawned its entity and waits for the go signal on stdin. */
  readonly ready: Promise<void>;
  /** Resolves with the writer's report when it exits with status 0. */
  readonly report: Promise<WriterReport>;
}

/** Starts `node <script> ...args`; `name` labels its failures. */
export function startWriter(script: string, args: readonly string[], name: string): WriterProcess {
  const child = spawn(process.execPath, [script, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.startsWith("ready\n")) resolve();
    });
    child.once("exit", (code) =>
      reject(new Error(`writer ${name} exited with ${code} before ready:\n${err}`)),
    );
  });
  const report = new Promise<WriterReport>((resolve, reject) => {
    child.once("exit", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (code !== 0 || line === undefined) reject(new Error(`writer ${name} exited with ${code}:\n${err}`));
      else resolve(JSON.parse(line) as WriterReport);
    });
  });
  ready.catch(() => {});
  return { child, ready, report };
}
