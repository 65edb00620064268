// `npm run check:fresh-project`: what a new user gets from the packages, checked in a project outside this
// repository. Packs the publishable workspaces, installs the tarballs (plus the drivers an app would add:
// pg, @nats-io/kv, @nats-io/transport-node) into a temporary project WITHOUT vitest, compiles the README
// quickstart and test/fresh-project/main.ts there with strict settings against the installed type
// declarations, runs them, and checks the project has exactly one copy of @eventsourced/core (adapters
// declare core as a peer, so none may bring its own). Every step is bounded in time; exit 1 on failure.
// KEEP_FRESH_PROJECT=1 keeps the temporary project for inspection.
import { execFile } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { promisify } from "node:util";
import { packWorkspaces, root } from "./workspace-tarballs.mjs";

const execFileAsync = promisify(execFile);

/** The drivers the app installs itself, at the versions this repository is tested with. */
const DRIVERS = ["pg", "@nats-io/kv", "@nats-io/transport-node"];

/**
 * The environment for npm in the temporary project: without the `npm_*` variables of an enclosing
 * `npm run` (npm_config_local_prefix would point npm back at this repository), but with the cache and
 * registry settings.
 */
function cleanEnv() {
  const keep =
    /^npm_config_(cache|registry|userconfig|globalconfig|prefer_offline|offline|proxy|https_proxy|noproxy|cafile|strict_ssl)$/i;
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || keep.test(key)),
  );
}

async function step(name, command, args, options) {
  const started = performance.now();
  try {
    const { stdout } = await execFileAsync(command, args, { maxBuffer: 64 * 1024 * 1024, ...options });
    console.log(`check:fresh-project: ${name}: ok (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    return stdout;
  } catch (err) {
    const output = `${err.stdout ?? ""}${err.stderr ?? ""}`.trim();
    const why = err.killed ? `timed out after ${options.timeout} ms` : `exit ${err.code}`;
    throw new Error(`${name} failed (${why}):\n${output}`);
  }
}

/** Paths (relative to `dir`) of every installed copy of package `name`, nested ones included. */
function installedCopies(dir, name) {
  const copies = [];
  const visit = (modules) => {
    let entries;
    try {
      entries = readdirSync(modules, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const packages = entry.name.startsWith("@")
        ? readdirSync(join(modules, entry.name)).map((name) => join(modules, entry.name, name))
        : [join(modules, entry.name)];
      for (const pkg of packages) {
        if (relative(modules, pkg) === name) copies.push(relative(dir, pkg));
        visit(join(pkg, "node_modules"));
      }
    }
  };
  visit(join(dir, "node_modules"));
  return copies;
}

const started = performance.now();
const work = mkdtempSync(join(tmpdir(), "eventsourced-fresh-"));
const app = join(work, "app");
try {
  const tarballs = await packWorkspaces(work);
  const rootLock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
  const dependencies = Object.fromEntries([
    ...tarballs.map((t) => [t.name, `file:../${basename(t.tarball)}`]),
    ...DRIVERS.map((name) => [name, rootLock.packages[`node_modules/${name}`].version]),
  ]);
  mkdirSync(join(app, "src", "fresh-project"), { recursive: true });
  writeFileSync(
    join(app, "package.json"),
    JSON.stringify({ name: "fresh-app", private: true, type: "module", dependencies }, null, 2),
  );
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify(
      {
        compilerOptions: {
          target: "ES2022",
          lib: ["ES2023"],
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          exactOptionalPropertyTypes: true,
          noUncheckedIndexedAccess: true,
          verbatimModuleSyntax: true,
          skipLibCheck: true,
          rootDir: "src",
          outDir: "dist",
          // Node's types from this repository: the app itself installs nothing but the packages under test.
          typeRoots: [join(root, "node_modules", "@types")],
          types: ["node"],
        },
        include: ["src"],
      },
      null,
      2,
    ),
  );
  copyFileSync(join(root, "test", "readme-quickstart.ts"), join(app, "src", "readme-quickstart.ts"));
  copyFileSync(join(root, "test", "fresh-project", "main.ts"), join(app, "src", "fresh-project", "main.ts"));

  await step(
    "npm install of the tarballs (no vitest)",
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
    { cwd: app, env: cleanEnv(), timeout: 180_000 },
  );
  const copies = installedCopies(app, "@eventsourced/core");
  if (copies.length !== 1) {
    throw new Error(
      `expected exactly one copy of @eventsourced/core, found ${copies.length}: ${copies.join(", ")}`,
    );
  }
  console.log(`check:fresh-project: one copy of @eventsourced/core (${copies[0]})`);
  const vitest = installedCopies(app, "vitest");
  if (vitest.length > 0) throw new Error(`vitest must not be installed, found ${vitest.join(", ")}`);

  await step(
    "tsc (strict, NodeNext) against the installed declarations",
    process.execPath,
    [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", app],
    { cwd: app, timeout: 120_000 },
  );
  const output = await step(
    "node dist/fresh-project/main.js",
    process.execPath,
    ["dist/fresh-project/main.js"],
    {
      cwd: app,
      timeout: 60_000,
    },
  );
  process.stdout.write(output);
  console.log(`check:fresh-project: ok in ${((performance.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  console.error(`check:fresh-project: FAILED: ${err.message}`);
  console.error(
    `(the project: ${app}${process.env.KEEP_FRESH_PROJECT ? "" : ", removed; KEEP_FRESH_PROJECT=1 keeps it"})`,
  );
  process.exitCode = 1;
} finally {
  if (!process.env.KEEP_FRESH_PROJECT) rmSync(work, { recursive: true, force: true });
}
