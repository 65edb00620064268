import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  uniqueSchemaName,
} from "../../../packages/evtlog-postgres/test/pg-test-database.js";
import { assertBuilt, runExample } from "./example-process.js";

// PostgreSQL goes away in the middle of the write phase (a proxy in front of it is closed): the run must
// still print its report and write its summary (how many commands were acknowledged, why it failed) and
// exit 1. Before, a report hook that read the log failed first and the run printed only that error.

const schema = uniqueSchemaName("counter_cut");
const tmp = mkdtempSync(join(tmpdir(), "counter-cut-"));
const summaryFile = join(tmp, "summary.json");
const sockets = new Set<net.Socket>();
let proxy: net.Server;

beforeAll(async () => {
  assertBuilt();
  const target = new URL(DATABASE_URL);
  proxy = net.createServer((client) => {
    const server = net.connect(Number(target.port || 5432), target.hostname);
    for (const socket of [client, server]) {
      sockets.add(socket);
      socket.on("error", () => {});
    }
    client.pipe(server).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  proxy.close();
  await dropSchema(schema);
  rmSync(tmp, { recursive: true, force: true });
});

describe("the counter when PostgreSQL goes away mid-run", { timeout: 120_000 }, () => {
  it("prints its report, writes its summary with the acknowledged count and the error, and exits 1", async () => {
    const via = new URL(DATABASE_URL);
    via.hostname = "127.0.0.1";
    via.port = String((proxy.address() as net.AddressInfo).port);
    let cut = false;
    const run = await runExample({
      env: {
        APP__EVT_LOG__KIND: "postgres",
        APP__EVT_LOG__POSTGRES__URL: via.toString(),
        APP__EVT_LOG__POSTGRES__SCHEMA: schema,
        APP__COUNTER__ENTITY_COUNT: "20",
        APP__COUNTER__EVT_COUNT: "100000",
        APP__OUTPUT__SUMMARY_FILE: summaryFile,
      },
      onStderr: (text) => {
        // The first progress line: the write phase is under way. Cut every connection, refuse new ones.
        if (!cut && text.includes("progress:")) {
          cut = true;
          proxy.close();
          for (const socket of sockets) socket.destroy();
        }
      },
    });
    expect(cut).toBe(true);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/failed: the write phase ended after [\d,]+ of 2,000,000 commands/);
    expect(run.stdout).toMatch(/^write phase: /m);
    const summary = JSON.parse(readFileSync(summaryFile, "utf8")) as {
      commands: number;
      error: string | null;
    };
    expect(summary.commands).toBeGreaterThan(0);
    expect(summary.error).not.toBeNull();
    expect(run.stderr).not.toContain("unexpected failure");
  });
});
