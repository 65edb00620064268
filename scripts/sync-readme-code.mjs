#!/usr/bin/env node
// Rewrites every README code block that is marked `<!-- code: <file>#<region> -->` with the current text of
// that region, so a README example is changed by editing (and testing) its source file, then running
//   npm run readme:sync
// test/readme-code-blocks.test.ts checks that blocks and regions agree.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
const MARKER = /^(\s*)<!-- code: (\S+)#([\w-]+) -->$/;

function readmes() {
  const inDir = (dir) =>
    readdirSync(join(root, dir), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(dir, entry.name, "README.md"));
  const pages = [];
  const walk = (dir) => {
    let entries;
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
  return ["README.md", ...inDir("packages"), ...inDir("examples"), "bench/README.md", ...pages].filter(
    (path) => {
      try {
        readFileSync(join(root, path));
        return true;
      } catch {
        return false;
      }
    },
  );
}

function region(file, name) {
  const source = readFileSync(join(root, file), "utf8");
  const match = source.match(
    new RegExp(`\\n([ \\t]*)// #region ${name}\\n([\\s\\S]*?)\\n[ \\t]*// #endregion ${name}\\n`),
  );
  if (!match) throw new Error(`${file} has no region ${name}`);
  const indent = match[1].length;
  return match[2]
    .split("\n")
    .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
    .join("\n")
    .trim();
}

let changed = 0;
for (const readme of readmes()) {
  const lines = readFileSync(join(root, readme), "utf8").split("\n");
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i]);
    const marker = lines[i].match(MARKER);
    const open = lines[i + 1]?.match(/^(\s*)(`{3,})(.*)$/);
    if (!marker || !open) continue;
    const [, indent, fence] = open;
    let j = i + 2;
    while (j < lines.length && lines[j].trim() !== fence) j++;
    const current = lines
      .slice(i + 2, j)
      .map((line) => line.slice(indent.length))
      .join("\n")
      .trim();
    const wanted = region(marker[2], marker[3]);
    out.push(lines[i + 1], ...wanted.split("\n").map((line) => (line === "" ? "" : indent + line)), lines[j]);
    if (current !== wanted) {
      changed++;
      console.log(`${readme}: ${marker[2]}#${marker[3]}`);
    }
    i = j;
  }
  writeFileSync(join(root, readme), out.join("\n"));
}
console.log(changed === 0 ? "README code blocks already match their regions" : `${changed} block(s) updated`);
