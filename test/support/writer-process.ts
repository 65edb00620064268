import { type ChildProcess, spawn } from "node:child_process";
import { type EvtRecord, jsonFromBytes } from "@eventsourced/core";
import { expect } from "vitest";

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

/**
 * Checks the log of the contested entity against the writers' reports: seqNos contiguous from 1, each
 * command's two events adjacent and in order, each command stored once, every acknowledged command stored
 * at the seqNo it was acknowledged with, and nothing stored that was not acknowledged.
 */
export function expectLogMatchesAcks(
  records: readonly EvtRecord[],
  reports: readonly WriterReport[],
  expectedAcked: number,
): void {
  const evts = records.map((r) => jsonFromBytes<{ tag: string; part: number }>(r.bytes));
  expect(records.map((r) => r.seqNo)).toEqual(records.map((_, i) => i + 1));
  for (let i = 0; i < evts.length; i += 2) {
    expect([evts[i]!.part, evts[i + 1]?.part, evts[i + 1]?.tag]).toEqual([0, 1, evts[i]!.tag]);
  }
  const storedAt = new Map<string, number>();
  for (let i = 1; i < evts.length; i += 2) {
    expect(storedAt.has(evts[i]!.tag), `${evts[i]!.tag} stored once`).toBe(false);
    storedAt.set(evts[i]!.tag, records[i]!.seqNo);
  }
  const acked = reports.flatMap((r) => r.acked);
  expect(acked).toHaveLength(expectedAcked);
  for (const { tag, seqNo } of acked) expect(storedAt.get(tag), tag).toBe(seqNo);
  // Nothing in the log that was not acknowledged (no write survived a failed or conflicting command).
  expect(storedAt.size).toBe(acked.length);
}
