// Packs the publishable workspaces (every workspace not marked private) with `npm pack`, exactly as
// `npm publish` would, so the publishing checks and the fresh-project test look at what users install.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository root (this file lives in `scripts/`). */
export const root = fileURLToPath(new URL("..", import.meta.url));

/**
 * The publishable workspaces, in the root manifest's order.
 * @returns {{ name: string, dir: string, manifest: Record<string, any> }[]}
 */
export function publishableWorkspaces() {
  const { workspaces } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  return workspaces
    .map((/** @type {string} */ dir) => ({
      dir,
      manifest: JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")),
    }))
    .filter((w) => w.manifest.private !== true)
    .map((w) => ({ name: w.manifest.name, ...w }));
}

/**
 * Packs every publishable workspace into `destination` (needs a build: `dist/` is what gets packed).
 * @param {string} destination
 * @returns {Promise<{ name: string, dir: string, manifest: Record<string, any>, tarball: string, files: string[] }[]>}
 */
export async function packWorkspaces(destination) {
  const workspaces = publishableWorkspaces();
  const args = ["pack", "--json", "--pack-destination", destination];
  for (const w of workspaces) args.push("--workspace", w.dir);
  const { stdout } = await run("npm", args, { cwd: root, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  /** @type {{ name: string, filename: string, files: { path: string }[] }[]} */
  const packed = JSON.parse(stdout);
  return workspaces.map((w) => {
    const result = packed.find((p) => p.name === w.name);
    if (result === undefined) throw new Error(`npm pack did not pack ${w.name}`);
    return { ...w, tarball: join(destination, result.filename), files: result.files.map((f) => f.path) };
  });
}
