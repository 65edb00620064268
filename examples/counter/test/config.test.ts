import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigurationError } from "@eventsourced/core";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG_DIR, envVarToKey, keyToEnvVar, loadConfig } from "../src/config.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A config dir holding the example's default.yaml with `edit` applied to its text. */
function configDir(edit: (yaml: string) => string = (yaml) => yaml): string {
  const dir = mkdtempSync(join(tmpdir(), "counter-config-"));
  dirs.push(dir);
  const original = readFileSync(join(DEFAULT_CONFIG_DIR, "default.yaml"), "utf8");
  writeFileSync(join(dir, "default.yaml"), edit(original));
  return dir;
}

function loadError(env: Record<string, string>): ConfigurationError {
  try {
    loadConfig({ env });
  } catch (err) {
    if (err instanceof ConfigurationError) return err;
    throw err;
  }
  throw new Error("expected a ConfigurationError");
}

describe("loading the counter configuration", () => {
  it("reads the example's own default.yaml when CONFIG_DIR is not set", () => {
    const { config, sources, file } = loadConfig({ env: {} });
    expect(file).toBe(join(DEFAULT_CONFIG_DIR, "default.yaml"));
    expect(config.counter.entityCount).toBe(10);
    expect(config.evtLog.kind).toBe("postgres");
    expect(config.evtLog.postgres.url).toBe("");
    expect(sources.get("counter.evtCount")).toBe(file);
  });

  it("reads default.yaml from CONFIG_DIR", () => {
    const dir = configDir((yaml) => yaml.replace("entityCount: 10", "entityCount: 3"));
    const { config, file } = loadConfig({ env: { CONFIG_DIR: dir } });
    expect(file).toBe(join(dir, "default.yaml"));
    expect(config.counter.entityCount).toBe(3);
  });

  it("lets an APP__SECTION__KEY env var override the file and records it as the source", () => {
    const { config, sources } = loadConfig({ env: { APP__COUNTER__EVT_COUNT: "42" } });
    expect(config.counter.evtCount).toBe(42);
    expect(sources.get("counter.evtCount")).toBe("env APP__COUNTER__EVT_COUNT");
  });

  it("maps nested sections and _-separated words to camelCase keys", () => {
    const { config } = loadConfig({
      env: { APP__EVT_LOG__NATS__SUBJECT_PREFIX: "ctr", APP__OUTPUT__SUMMARY_FILE: "/tmp/s.json" },
    });
    expect(config.evtLog.nats.subjectPrefix).toBe("ctr");
    expect(config.output.summaryFile).toBe("/tmp/s.json");
    expect(envVarToKey("APP__EVT_LOG__POSTGRES__DATA_DIR")).toBe("evtLog.postgres.dataDir");
    expect(keyToEnvVar("evtLog.postgres.dataDir")).toBe("APP__EVT_LOG__POSTGRES__DATA_DIR");
  });

  it("coerces numbers and booleans from env text but keeps strings as strings", () => {
    const { config } = loadConfig({
      env: {
        APP__COUNTER__SNAPSHOT_AFTER: " 7 ",
        APP__COUNTER__VERIFY: "FALSE",
        APP__EVT_LOG__NATS__USER: "123",
      },
    });
    expect(config.counter.snapshotAfter).toBe(7);
    expect(config.counter.verify).toBe(false);
    expect(config.evtLog.nats.user).toBe("123");
  });

  it("honours DATABASE_URL, below an explicit APP__ override", () => {
    const url = "postgres://postgres@127.0.0.1:5432/test";
    expect(loadConfig({ env: { DATABASE_URL: url } }).config.evtLog.postgres.url).toBe(url);
    const both = loadConfig({ env: { DATABASE_URL: url, APP__EVT_LOG__POSTGRES__URL: "postgres://x@h/db" } });
    expect(both.config.evtLog.postgres.url).toBe("postgres://x@h/db");
    expect(both.sources.get("evtLog.postgres.url")).toBe("env APP__EVT_LOG__POSTGRES__URL");
  });

  it("resolves relative paths from the file against its directory and from env against the cwd", () => {
    const dir = configDir();
    const fromFile = loadConfig({ env: { CONFIG_DIR: dir } }).config;
    expect(fromFile.evtLog.postgres.dataDir).toBe(join(dir, "..", ".data", "pglite"));
    const fromEnv = loadConfig({ env: { APP__EVT_LOG__POSTGRES__DATA_DIR: "data" }, cwd: "/srv" }).config;
    expect(fromEnv.evtLog.postgres.dataDir).toBe("/srv/data");
  });
});

describe("configuration errors name the key and where its value came from", () => {
  it("an unknown env key", () => {
    const err = loadError({ APP__COUNTER__EVT_CONT: "5" });
    expect(err.key).toBe("counter.evtCont");
    expect(err.source).toBe("env APP__COUNTER__EVT_CONT");
    expect(err.message).toBe(
      "config key counter.evtCont is not a known key (from env var APP__COUNTER__EVT_CONT)",
    );
  });

  it("an unknown key in the file", () => {
    const dir = configDir((yaml) => yaml.replace("  verify: true", "  verify: true\n  colour: blue"));
    const err = loadError({ CONFIG_DIR: dir });
    expect(err.key).toBe("counter.colour");
    expect(err.source).toBe(join(dir, "default.yaml"));
    expect(err.message).toBe(
      `config key counter.colour is not a known key (in ${join(dir, "default.yaml")})`,
    );
  });

  it("an env var naming a section instead of a key", () => {
    const err = loadError({ APP__COUNTER: "5" });
    expect(err.message).toBe("config key counter is a section, not a single key (from env var APP__COUNTER)");
  });

  it("a wrong type from env", () => {
    const err = loadError({ APP__COUNTER__EVT_COUNT: "many" });
    expect(err.key).toBe("counter.evtCount");
    expect(err.message).toBe(
      'config key counter.evtCount must be an integer from 0 to 1000000000, got "many" (from env var APP__COUNTER__EVT_COUNT)',
    );
  });

  it("a wrong type in the file", () => {
    const dir = configDir((yaml) => yaml.replace("verify: true", "verify: sometimes"));
    const err = loadError({ CONFIG_DIR: dir });
    expect(err.message).toBe(
      `config key counter.verify must be true or false, got "sometimes" (in ${join(dir, "default.yaml")})`,
    );
  });

  it("a value outside the allowed words", () => {
    const err = loadError({ APP__EVT_LOG__KIND: "mysql" });
    expect(err.message).toBe(
      'config key evtLog.kind must be one of postgres, nats, got "mysql" (from env var APP__EVT_LOG__KIND)',
    );
  });

  it("a missing value", () => {
    const dir = configDir((yaml) => yaml.replace("  entityCount: 10\n", ""));
    const err = loadError({ CONFIG_DIR: dir });
    expect(err.key).toBe("counter.entityCount");
    expect(err.message).toBe(
      `config key counter.entityCount has no value; expected an integer from 1 to 1000000 (in ${join(dir, "default.yaml")})`,
    );
  });

  it("an empty value from env", () => {
    const err = loadError({ APP__COUNTER__ENTITY_COUNT: "" });
    expect(err.message).toContain("config key counter.entityCount must be an integer");
    expect(err.source).toBe("env APP__COUNTER__ENTITY_COUNT");
  });

  it("a cap on resident counters below 1", () => {
    expect(loadConfig({ env: {} }).config.counter.maxActive).toBe(10_000);
    expect(loadConfig({ env: { APP__COUNTER__MAX_ACTIVE: "5" } }).config.counter.maxActive).toBe(5);
    const err = loadError({ APP__COUNTER__MAX_ACTIVE: "0" });
    expect(err.key).toBe("counter.maxActive");
    expect(err.message).toBe(
      "config key counter.maxActive must be an integer from 1 to 1000000000, got 0 (from env var APP__COUNTER__MAX_ACTIVE)",
    );
  });

  it("a URL that does not parse (a port above 65535) is a configuration error, not an unreachable server", () => {
    const pg = loadError({ DATABASE_URL: "postgres://postgres:s3cret@127.0.0.1:99999/test" });
    expect(pg.key).toBe("evtLog.postgres.url");
    expect(pg.message).not.toContain("s3cret");
    const nats = loadError({ NATS_URL: "nats://127.0.0.1:99999" });
    expect(nats.key).toBe("evtLog.nats.url");
  });

  it("a missing config file names CONFIG_DIR", () => {
    const err = loadError({ CONFIG_DIR: "/nonexistent/config" });
    expect(err.key).toBe("CONFIG_DIR");
    expect(err.message).toContain("/nonexistent/config/default.yaml");
  });

  it("never prints a password", () => {
    const err = loadError({ APP__EVT_LOG__POSTGRES__URL: "mysql://app:s3cret@db/app" });
    expect(err.message).not.toContain("s3cret");
    expect(err.message).toContain("mysql://app:***@db/app");
    const token = loadError({ APP__EVT_LOG__NATS__URL: "s3cret" });
    expect(token.message).not.toContain("s3cret");
  });
});
