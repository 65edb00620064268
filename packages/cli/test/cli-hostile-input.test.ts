import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "@eventsourced/cli";
import { afterAll, describe, expect, it } from "vitest";

// The CLI from a hostile command line, run in process: every bad input exits 2 (usage) or 1 (refused or
// failed) with one typed line on stderr (`--json`: {"error":{"code",...}}), never a stack trace or an
// "unexpected failure", and no password given anywhere ever appears in what is printed.

const cwd = mkdtempSync(join(tmpdir(), "cli-hostile-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));
writeFileSync(join(cwd, "throws-error.mjs"), 'throw new Error("the module refuses to load");\n');
writeFileSync(join(cwd, "throws-string.mjs"), 'throw "a bare string";\n');
writeFileSync(join(cwd, "throws-null.mjs"), "throw null;\n");
writeFileSync(join(cwd, "no-binarizer.mjs"), "export const other = 1;\n");
writeFileSync(join(cwd, "half-binarizer.mjs"), "export const binarizer = { evtFromBytes() {} };\n");

// Nothing listens on port 1: connecting fails at once.
const PASSWORD = "S3cr3tPw";
const PG_URL = `postgres://app:${PASSWORD}@127.0.0.1:1/app`;
const ENCODED_PG_URL = "postgres://app:S3cr%40tPw@127.0.0.1:1/app";
const NATS_URL = `nats://app:${PASSWORD}@127.0.0.1:1`;
const SECRETS = [PASSWORD, "S3cr%40tPw", "S3cr@tPw"];

interface Ran {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(argv: readonly string[], env: Record<string, string> = {}): Promise<Ran> {
  let stdout = "";
  let stderr = "";
  const status = await runCli(argv, {
    cwd,
    env,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { status, stdout, stderr };
}

async function jsonError(argv: readonly string[], env: Record<string, string> = {}) {
  const ran = await cli([...argv, "--json"], env);
  const lines = ran.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  return { status: ran.status, error: JSON.parse(lines[0]!).error as { code: string; message: string } };
}

describe("the CLI from a hostile command line", () => {
  it.each([[["frobnicate"]], [["projections", "explode"]], [["--"]], [["", ""]]])(
    "an unknown command %j exits 2 with CLI_USAGE",
    async (argv) => {
      const { status, error } = await jsonError(argv);
      expect(status).toBe(2);
      expect(error.code).toBe("CLI_USAGE");
    },
  );

  it.each([
    [["--bogus"]],
    [["projections", "list", "--url"]],
    [["-z"]],
    [["projections", "list", "--limit"]],
  ])("a malformed option line %j exits 2 with CLI_USAGE", async (argv) => {
    const { status, error } = await jsonError(argv);
    expect(status).toBe(2);
    expect(error.code).toBe("CLI_USAGE");
  });

  it("an option the command does not take exits 2 naming it and the command's own, before any connection", async () => {
    const { status, error } = await jsonError([
      "entities",
      "list",
      "acct",
      "--seq-no",
      "4",
      "--bucket-prefix",
      "x",
      "--url",
      PG_URL,
    ]);
    expect(status).toBe(2);
    expect(error.message).toBe("entities list does not take --seq-no (it takes --after, --limit)");
  });

  it("a negative number as an argument, or --to below --from, exits 2 saying so", async () => {
    const negative = await jsonError(["projections", "reset", "p", "-5", "--yes", "--url", PG_URL]);
    expect(negative.status).toBe(2);
    expect(negative.error.message).toMatch(/argument -5: negative numbers are not valid/);
    // After "--" an argument is taken as written: an id may start with "-" (it then reaches the server).
    const { parseCommandLine } = await import("../src/cli-options.js");
    expect(parseCommandLine(["events", "acct", "--", "-42"]).positionals).toEqual(["events", "acct", "-42"]);
    const backwards = await jsonError(["events", "acct", "a", "--from", "5", "--to", "3", "--url", PG_URL]);
    expect(backwards.status).toBe(2);
    expect(backwards.error.message).toBe("--to 3 is below --from 5");
  });

  it("a command with the wrong number of arguments exits 2 naming what it takes", async () => {
    const { status, error } = await jsonError(["events", "acct"]);
    expect(status).toBe(2);
    expect(error).toMatchObject({ code: "CLI_USAGE", message: expect.stringMatching(/takes <type> <id>/) });
  });

  it.each([["abc"], ["0"], ["-1"], ["1.5"], ["1e3"], [""], ["0x10"], ["99999999999999999999"]])(
    "--limit %j exits 2 naming --limit before any connection",
    async (limit) => {
      const { status, error } = await jsonError([
        "entities",
        "list",
        "acct",
        "--limit",
        limit,
        "--url",
        PG_URL,
      ]);
      expect(status).toBe(2);
      expect(error).toMatchObject({ code: "CLI_USAGE", message: expect.stringMatching(/--limit/) });
    },
  );

  it.each([
    ["--from", "0"],
    ["--to", "-3"],
    ["--from", "NaN"],
  ])("%s %j exits 2 naming the option", async (option, value) => {
    const { status, error } = await jsonError(["events", "acct", "a", option, value, "--url", PG_URL]);
    expect(status).toBe(2);
    expect(error.message).toContain(option);
  });

  it.each([
    ["a module that does not exist", "./missing.mjs", /cannot import/],
    ["a package that does not exist", "no-such-package-xyz", /cannot import/],
    ["a module that throws an Error", "./throws-error.mjs", /cannot import.*refuses to load/],
    ["a module that throws a string", "./throws-string.mjs", /cannot import.*a bare string/],
    ["a module that throws null", "./throws-null.mjs", /cannot import/],
    ["a module without a binarizer", "./no-binarizer.mjs", /no binarizer export/],
    ["a module whose binarizer lacks stateFromBytes", "./half-binarizer.mjs", /no binarizer export/],
    ["a missing named export", "./no-binarizer.mjs#nope", /no binarizer export named nope/],
  ])("--binarizer with %s exits 2 with CLI_USAGE naming --binarizer", async (_, spec, pattern) => {
    const { status, error } = await jsonError(["events", "acct", "a", "--binarizer", spec, "--url", PG_URL]);
    expect(status).toBe(2);
    expect(error.code).toBe("CLI_USAGE");
    expect(error.message).toMatch(/--binarizer/);
    expect(error.message).toMatch(pattern);
  });
});

describe("a password on the command line or in the environment never appears in an error", () => {
  const cases: [string, readonly string[], Record<string, string>][] = [
    ["an unreachable PostgreSQL", ["projections", "list", "--url", PG_URL], {}],
    [
      "an unreachable PostgreSQL, percent-encoded password",
      ["projections", "list", "--url", ENCODED_PG_URL],
      {},
    ],
    ["an unreachable NATS server", ["projections", "list", "--url", NATS_URL], {}],
    ["the URL given as a stray argument", ["projections", "list", PG_URL], {}],
    ["the URL as an unknown command", [PG_URL], {}],
    ["the URL with an unsupported scheme", ["projections", "list", "--url", `ftp://app:${PASSWORD}@h/x`], {}],
    [
      "a URL that does not parse",
      ["projections", "list", "--url", `postgres://app:${PASSWORD}@h:port/x`],
      {},
    ],
    ["the URL glued to an unknown option", [`--bogus=${PG_URL}`], {}],
    ["a bad option after the URL", ["entities", "list", "acct", "--limit", "x", "--url", PG_URL], {}],
    ["a bad --schema with the URL", ["projections", "list", "--url", PG_URL, "--schema", "bad;name"], {}],
    [
      "DATABASE_URL with a bad --schema",
      ["projections", "list", "--schema", "bad;name"],
      { DATABASE_URL: PG_URL },
    ],
    ["DATABASE_URL unreachable", ["projections", "list"], { DATABASE_URL: PG_URL }],
    [
      "a bad binarizer with the URL",
      ["events", "a", "b", "--binarizer", "./missing.mjs", "--url", PG_URL],
      {},
    ],
  ];

  it.each(cases)("with %s, in text and in JSON", async (_, argv, env) => {
    for (const ran of [await cli(argv, env), await cli([...argv, "--json"], env)]) {
      expect(ran.status).not.toBe(0);
      expect(ran.stderr).not.toMatch(/unexpected failure|UNEXPECTED|\n\s+at /);
      for (const secret of SECRETS) {
        expect(ran.stderr).not.toContain(secret);
        expect(ran.stdout).not.toContain(secret);
      }
    }
  });
});
