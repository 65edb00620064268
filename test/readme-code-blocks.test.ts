import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// Every TypeScript or JavaScript block in a README is a region of a file that the tests compile (the
// typecheck covers every test directory) and run, so no README example can drift from the code. The line
// before the block names it:
//
//   <!-- code: packages/core/test/readme/account.ts#per-command -->
//   ```ts
//
// and the file marks it with `// #region per-command` ... `// #endregion per-command` (the region's common
// indentation is removed). Blocks in other languages (sh, text, sql, json, yaml) are not code to run; a block
// without a language is refused, so every block says what it is.

const root = fileURLToPath(new URL("../", import.meta.url));
const CODE = new Set(["ts", "typescript", "tsx", "js", "javascript", "jsx", "mjs", "cjs"]);
const NOT_CODE = new Set(["sh", "bash", "text", "sql", "json", "yaml", "diff"]);
const MARKER = /^<!-- code: (\S+)#([\w-]+) -->$/;

/** Markdown pages under `docs/` folders (the repository's and each package's), ADRs excepted. */
function docPages(): string[] {
  const pages: string[] = [];
  const walk = (dir: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(join(root, dir), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== "adr" && entry.name !== "api") walk(path);
      else if (entry.isFile() && entry.name.endsWith(".md")) pages.push(path);
    }
  };
  walk("docs");
  for (const pkg of readdirSync(join(root, "packages"))) walk(join("packages", pkg, "docs"));
  return pages;
}

/** Every README the repository publishes or shows (root, packages, examples, bench) and the docs pages. */
function readmes(): string[] {
  const inDirs = (dir: string) =>
    readdirSync(join(root, dir), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(dir, entry.name, "README.md"))
      .filter((path) => {
        try {
          readFileSync(join(root, path));
          return true;
        } catch {
          return false;
        }
      });
  return ["README.md", ...inDirs("packages"), ...inDirs("examples"), "bench/README.md", ...docPages()];
}

interface Block {
  readonly line: number;
  readonly lang: string;
  readonly code: string;
  /** The line before the opening fence. */
  readonly before: string;
}

/** The fenced blocks of a Markdown file (indented fences in lists included, their indentation removed). */
function blocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]!.match(/^(\s*)(`{3,})(.*)$/);
    if (!open) continue;
    const [, indent = "", fence = "", info = ""] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() !== fence) body.push(lines[j++]!.slice(indent.length));
    if (j === lines.length) throw new Error(`unclosed code block at line ${i + 1}`);
    found.push({
      line: i + 1,
      lang: info.trim().split(/\s+/)[0] ?? "",
      code: body.join("\n"),
      before: i > 0 ? lines[i - 1]!.trim() : "",
    });
    i = j;
  }
  return found;
}

/** The text of `// #region name` in `file`, without its common indentation. */
function region(file: string, name: string): string {
  const source = readFileSync(join(root, file), "utf8");
  const match = source.match(
    new RegExp(`\\n([ \\t]*)// #region ${name}\\n([\\s\\S]*?)\\n[ \\t]*// #endregion ${name}\\n`),
  );
  if (!match) throw new Error(`${file} has no region ${name}`);
  const indent = match[1]!.length;
  return match[2]!
    .split("\n")
    .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
    .join("\n")
    .trim();
}

describe("README code blocks", () => {
  for (const readme of readmes()) {
    it(`${readme}: every code block is a region of a tested file, shown verbatim; other blocks name their language`, () => {
      const problems: string[] = [];
      for (const block of blocks(readFileSync(join(root, readme), "utf8"))) {
        const where = `${readme}:${block.line}`;
        if (NOT_CODE.has(block.lang)) continue;
        if (!CODE.has(block.lang)) {
          problems.push(
            `${where}: a block without a known language ("${block.lang}"); name it (ts, sh, text...)`,
          );
          continue;
        }
        const marker = block.before.match(MARKER);
        if (!marker) {
          problems.push(
            `${where}: a ${block.lang} block without a "<!-- code: <file>#<region> -->" line before it`,
          );
          continue;
        }
        const [, file = "", name = ""] = marker;
        if (!/(^|\/)test\/.+\.ts$/.test(file)) {
          problems.push(
            `${where}: ${file} is not a TypeScript file under a test directory (compiled and run)`,
          );
          continue;
        }
        try {
          const expected = region(file, name);
          if (block.code.trim() !== expected) {
            problems.push(`${where}: differs from ${file}#${name}; copy the region:\n${expected}`);
          }
        } catch (err) {
          problems.push(`${where}: ${(err as Error).message}`);
        }
      }
      expect(problems).toEqual([]);
    });
  }
});
