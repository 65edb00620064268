import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigurationError } from "@eventsourced/core";
import { PostgresProjectionStore } from "@eventsourced/projections/postgres";
import { afterAll, describe, expect, it } from "vitest";
import {
  DATABASE_URL,
  dropSchema,
  namedPool,
  uniqueSchemaName,
} from "../../projections/test/support/pg-env.js";
import { appConfig, listProjections } from "./readme-example.js";

const COUNTER_CONFIG = new URL("../../../examples/counter/config/", import.meta.url).pathname;

describe("the README examples of @eventsourced/cli", () => {
  const dirs: string[] = [];
  const schema = uniqueSchemaName("cli_readme");
  afterAll(async () => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await dropSchema(schema);
  });

  it("an application's loader reads its own section and the evtLog section, with defaults and env", () => {
    const dir = mkdtempSync(join(tmpdir(), "cli-readme-"));
    dirs.push(dir);
    writeFileSync(
      join(dir, "default.yaml"),
      "http: {}\nevtLog:\n  kind: nats\n  postgres: { url: '', dataDir: data, schema: app }\n" +
        "  nats: { url: 'nats://127.0.0.1:4222', user: '', password: '', token: '', credsFile: '', stream: app, subjectPrefix: '', bucket: '' }\n",
    );
    const config = appConfig(dir, { APP__HTTP__PORT: "9000" });
    expect(config.http.port).toBe(9000);
    expect(config.evtLog.kind).toBe("nats");
    expect(appConfig(dir, {}).http.port).toBe(8080);
    expect(() => appConfig(dir, { APP__HTTP__PORT: "0" })).toThrow(ConfigurationError);
    expect(() => appConfig(COUNTER_CONFIG, {})).toThrow("config key counter is not a known key");
    // The keys the CLI README's table documents are enough: the rest take their defaults.
    const short = mkdtempSync(join(tmpdir(), "cli-readme-short-"));
    dirs.push(short);
    writeFileSync(
      join(short, "default.yaml"),
      "evtLog:\n  kind: postgres\n  postgres: { url: 'postgres://app@db/app', schema: app }\nhttp: { port: 8081 }\n",
    );
    const config2 = appConfig(short, {});
    expect(config2.evtLog.postgres.url).toBe("postgres://app@db/app");
    expect(config2.evtLog.nats.stream).toBe("eventsourced");
    expect(config2.http.port).toBe(8081);
  });

  it("runCli lists the projections of a database", async () => {
    const pool = await namedPool(`cli-readme-${schema}`, 1);
    try {
      const store = await PostgresProjectionStore.create({ pool, schema });
      await store.claim("totals", "acct", 0);
      expect(await listProjections(DATABASE_URL, schema)).toMatchObject({
        projections: [{ name: "totals", type: "acct", position: 0, status: "running" }],
      });
    } finally {
      await pool.end();
    }
  });
});
