import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadCliConfig } from "@eventsourced/cli";
import { ConfigurationError } from "@eventsourced/core";
import { afterAll, describe, expect, it } from "vitest";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dirWith(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "cli-config-"));
  dirs.push(dir);
  writeFileSync(join(dir, "default.yaml"), yaml);
  return dir;
}

function errorOf(run: () => unknown): ConfigurationError {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigurationError) return err;
    throw err;
  }
  throw new Error("expected a ConfigurationError");
}

describe("the CLI's configuration", () => {
  const empty = mkdtempSync(join(tmpdir(), "cli-cwd-"));
  dirs.push(empty);

  it("without a file, takes the defaults and the conventional env vars; sources say where each came from", () => {
    const { config, sources, file } = loadCliConfig({}, { NATS_URL: "nats://n:4222" }, empty);
    expect(file).toBeUndefined();
    expect(config.evtLog.kind).toBe("postgres");
    expect(config.evtLog.postgres.schema).toBe("eventsourced");
    expect(config.evtLog.nats.url).toBe("nats://n:4222");
    expect(sources.get("evtLog.nats.url")).toBe("env NATS_URL");
    expect(sources.get("evtLog.postgres.schema")).toBe("default");
  });

  it("--url chooses the log by its scheme, above env vars; --schema and --stream set their keys", () => {
    const env = { DATABASE_URL: "postgres://env/db", APP__EVT_LOG__KIND: "postgres" };
    const nats = loadCliConfig({ url: "nats://opt:4222", stream: "s1" }, env, empty);
    expect(nats.config.evtLog.kind).toBe("nats");
    expect(nats.config.evtLog.nats).toMatchObject({ url: "nats://opt:4222", stream: "s1" });
    expect(nats.sources.get("evtLog.kind")).toBe("option --url");
    const pg = loadCliConfig({ url: "postgresql://opt/db", schema: "app" }, env, empty);
    expect(pg.config.evtLog.postgres).toMatchObject({ url: "postgresql://opt/db", schema: "app" });
  });

  it("an option's bad value names the option", () => {
    const err = errorOf(() => loadCliConfig({ schema: "no spaces" }, {}, empty));
    expect(err.key).toBe("evtLog.postgres.schema");
    expect(err.message).toBe(
      'config key evtLog.postgres.schema must be a letter, then letters, digits, _ or -, got "no spaces" (from option --schema)',
    );
  });

  it("ignores the application's own sections in the file and in APP__ vars, but not a mistake in its own", () => {
    const dir = dirWith("counter:\n  evtCount: 5\nevtLog:\n  kind: nats\n");
    const { config } = loadCliConfig({ config: dir }, { APP__COUNTER__EVT_COUNT: "x" }, empty);
    expect(config.evtLog.kind).toBe("nats");
    const typo = dirWith("evtLog:\n  knd: nats\n");
    const err = errorOf(() => loadCliConfig({ config: typo }, {}, empty));
    expect(err.message).toBe(`config key evtLog.knd is not a known key (in ${join(typo, "default.yaml")})`);
    expect(() => loadCliConfig({}, { APP__EVT_LOG__NATS__HOST: "h" }, empty)).toThrow(
      "config key evtLog.nats.host is not a known key (from env var APP__EVT_LOG__NATS__HOST)",
    );
  });

  it("a config directory given explicitly must hold the file; ./config is read when present", () => {
    const err = errorOf(() => loadCliConfig({ config: join(empty, "nope") }, {}, empty));
    expect(err.key).toBe("CONFIG_DIR");
    const cwd = mkdtempSync(join(tmpdir(), "cli-cwd-"));
    dirs.push(cwd);
    mkdirSync(join(cwd, "config"));
    writeFileSync(join(cwd, "config", "default.yaml"), "evtLog:\n  postgres:\n    schema: fromfile\n");
    const { config, file } = loadCliConfig({}, {}, cwd);
    expect(file).toBe(join(cwd, "config", "default.yaml"));
    expect(config.evtLog.postgres.schema).toBe("fromfile");
  });
});
