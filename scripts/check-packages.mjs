// `npm run check:packages`: packs every publishable workspace and checks the tarballs as a user's tools
// will see them. Fails (exit 1) on any finding:
// - manifest rules of this repository: ESM only, Node >= 20.3, Apache-2.0, `types` on every export, and
//   other @eventsourced packages only as peer dependencies with a ^ range (an app must have one copy of
//   core, see docs/adr), never as plain dependencies;
// - the tarball carries README.md and the repository's LICENSE;
// - publint --strict (exports, files, fields);
// - @arethetypeswrong/cli with the esm-only profile: every entry point must resolve, with types, under
//   node16/nodenext from ESM and under bundler resolution. The profile ignores node10 (which predates
//   `exports`, so subpaths cannot resolve there) and CommonJS callers under node16 (these packages are ESM
//   only; a CommonJS app loads them with import()): both are what ESM-only means, not defects.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { packWorkspaces, root } from "./workspace-tarballs.mjs";

const run = promisify(execFile);
const bin = (name) => join(root, "node_modules", ".bin", name);

/** Findings about one manifest; an empty list means it follows the rules. */
function manifestFindings(manifest, dir) {
  const findings = [];
  if (manifest.type !== "module") findings.push(`"type" must be "module"`);
  if (manifest.sideEffects !== false) findings.push(`"sideEffects" must be false`);
  if (manifest.license !== "Apache-2.0") findings.push(`"license" must be "Apache-2.0"`);
  if (manifest.engines?.node !== ">=20.3") findings.push(`"engines.node" must be ">=20.3"`);
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (typeof target !== "object" || typeof target.types !== "string") {
      findings.push(`export "${subpath}" has no "types" condition`);
    }
  }
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    if (name.startsWith("@eventsourced/")) {
      findings.push(
        `${name} must be a peer dependency (with a devDependency for the workspace), not a dependency`,
      );
    }
  }
  for (const [name, range] of Object.entries(manifest.peerDependencies ?? {})) {
    if (name.startsWith("@eventsourced/") && !String(range).startsWith("^")) {
      findings.push(`peer dependency ${name} must have a ^ range, has "${range}"`);
    }
  }
  if (readFileSync(join(root, dir, "LICENSE"), "utf8") !== readFileSync(join(root, "LICENSE"), "utf8")) {
    findings.push(`${dir}/LICENSE differs from the repository's LICENSE`);
  }
  return findings;
}

/** Runs a checker CLI; resolves to its output when it exits 0, rejects with it otherwise. */
async function check(command, args) {
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd: root,
      timeout: 120_000,
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    return { ok: false, output: `${err.stdout ?? ""}${err.stderr ?? ""}${err.killed ? "(timed out)" : ""}` };
  }
}

const started = performance.now();
const destination = mkdtempSync(join(tmpdir(), "eventsourced-pack-"));
let failed = false;
try {
  const packages = await packWorkspaces(destination);
  for (const pkg of packages) {
    const findings = manifestFindings(pkg.manifest, pkg.dir);
    for (const file of ["LICENSE", "README.md"]) {
      if (!pkg.files.includes(file)) findings.push(`the tarball has no ${file}`);
    }
    const [publint, attw] = await Promise.all([
      check(bin("publint"), ["run", pkg.tarball, "--strict"]),
      check(bin("attw"), [pkg.tarball, "--profile", "esm-only", "--format", "ascii"]),
    ]);
    if (!publint.ok) findings.push(`publint:\n${publint.output}`);
    if (!attw.ok) findings.push(`attw:\n${attw.output}`);
    failed ||= findings.length > 0;
    console.log(
      findings.length === 0
        ? `check:packages: ${pkg.name}: ${pkg.files.length} files; manifest, publint --strict, attw --profile esm-only: ok`
        : `check:packages: ${pkg.name}: FAILED\n  ${findings.join("\n  ")}`,
    );
  }
} finally {
  rmSync(destination, { recursive: true, force: true });
}
console.log(
  `check:packages: ${failed ? "FAILED" : "ok"} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
process.exitCode = failed ? 1 : 0;
