import { jsonBinarizer, silentLogger } from "@eventsourced/core";
import { PostgresEvtLog } from "@eventsourced/evtlog-postgres";
import { atLeastOnce, Projection } from "@eventsourced/projections";
import { PostgresProjectionStore } from "@eventsourced/projections/postgres";
import { PostgresSnapshotStore } from "@eventsourced/snapshots/postgres";
import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../../projections/test/support/fixtures.js";
import {
  DATABASE_URL,
  dropSchema,
  namedPool,
  uniqueSchemaName,
} from "../../projections/test/support/pg-env.js";
import { assertBuilt, BINARIZER_MODULE, runCli, runJson } from "./support/cli-process.js";

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const lines = (text: string) => text.split("\n").filter((line) => line.trim() !== "");

describe("the eventsourced CLI on PostgreSQL", { timeout: 60_000 }, () => {
  const schema = uniqueSchemaName("cli");
  const fresh = uniqueSchemaName("cli_fresh");
  const db = ["--url", DATABASE_URL, "--schema", schema];
  let pool: pg.Pool;
  let log: PostgresEvtLog;
  let projections: PostgresProjectionStore;
  let head = 0;
  let instance: Projection<{ amount: number }> | undefined;
  const applied: number[] = [];

  function startInstance(): Projection<{ amount: number }> {
    const projection = Projection.create<{ amount: number }>({
      name: "totals",
      evtLog: log,
      type: "acct",
      binarizer: jsonBinarizer<{ amount: number }, unknown>(),
      handler: atLeastOnce({
        store: projections,
        saveAfterEvents: 1,
        handle: (evts) => {
          for (const e of evts) applied.push(e.evt.amount);
        },
        reset: () => {
          applied.length = 0;
        },
      }),
      onError: { retries: 0 },
      logger: silentLogger,
      statusPollMs: 50,
    });
    projection.start();
    return projection;
  }

  beforeAll(async () => {
    assertBuilt();
    pool = await namedPool(`cli-${schema}`, 2);
    log = await PostgresEvtLog.create({ pool, maxConnections: 2, schema });
    await log.persist("acct", "a", 0, [{ bytes: bytes({ amount: 5 }) }, { bytes: bytes({ amount: -2 }) }]);
    await log.persist("acct", "b", 0, [{ bytes: new Uint8Array([0xff, 0x00]) }]);
    head = (await log.persist("acct", "c", 0, [{ bytes: bytes({ amount: 1 }) }])).position;
    const snapshots = await PostgresSnapshotStore.create({ pool, schema });
    await snapshots.save("acct", "a", { seqNo: 2, bytes: bytes({ balance: 3 }), version: "v1" });
    projections = await PostgresProjectionStore.create({ pool, schema });
    await projections.claim("totals", "acct", 0);
    const recordedAt = new Date();
    await projections.save(
      { name: "totals", epoch: 0, position: 0 },
      {
        position: 2,
        lastEventAt: recordedAt,
        deadLetters: [
          {
            projection: "totals",
            position: 1,
            type: "acct",
            id: "a",
            seqNo: 1,
            recordedAt,
            bytes: bytes({ amount: 5 }),
            error: "handler failed: boom",
            attempts: 4,
          },
          {
            projection: "totals",
            position: 2,
            type: "acct",
            id: "a",
            seqNo: 2,
            recordedAt,
            bytes: bytes({ amount: -2 }),
            error: "handler failed: boom",
            attempts: 1,
          },
        ],
      },
    );
  });
  afterAll(async () => {
    await instance?.stop();
    await log?.close();
    await pool?.end();
    await dropSchema(schema);
    await dropSchema(fresh);
  });

  it("schema status reports missing tables without creating any; schema migrate creates them", async () => {
    const before = await runCli(["schema", "status", "--url", DATABASE_URL, "--schema", fresh]);
    // Not up to date: exit 1 (a deployment script can gate on it), the report on stdout, nothing on stderr.
    expect(before.code).toBe(1);
    expect(before.stderr).toBe("");
    expect(before.stdout).toContain("evtlog:events            0        3         missing");
    expect(before.stdout).toContain("not up to date: run `eventsourced schema migrate`");
    const refused = await runCli(["entities", "list", "acct", "--url", DATABASE_URL, "--schema", fresh]);
    expect(refused.code).toBe(1);
    expect(lines(refused.stderr)).toEqual([
      `eventsourced: the event log tables are not set up in schema ${fresh} (PostgreSQL at ${DATABASE_URL}, schema ${fresh}): run \`eventsourced schema migrate\``,
    ]);
    const migrated = await runJson<{ upToDate: boolean; components: Array<{ state: string }> }>([
      "schema",
      "migrate",
      "--url",
      DATABASE_URL,
      "--schema",
      fresh,
    ]);
    expect(migrated.upToDate).toBe(true);
    expect(migrated.components.map((c) => c.state)).toEqual(["up-to-date", "up-to-date", "up-to-date"]);
    const after = await runCli(["schema", "status", "--url", DATABASE_URL, "--schema", fresh]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain("up to date");
  });

  it("entities list pages through the ids of a type with their last seqNo", async () => {
    const [text, page1, page2] = await Promise.all([
      runCli(["entities", "list", "acct", ...db]),
      runJson(["entities", "list", "acct", "--limit", "2", ...db]),
      runJson(["entities", "list", "acct", "--limit", "2", "--after", "b", ...db]),
    ]);
    expect(text.code).toBe(0);
    expect(lines(text.stdout)).toEqual(["ID  LAST SEQNO", "a   2", "b   1", "c   1"]);
    expect(page1).toEqual({
      type: "acct",
      entities: [
        { id: "a", lastSeqNo: 2 },
        { id: "b", lastSeqNo: 1 },
      ],
      next: "b",
    });
    expect(page2).toEqual({ type: "acct", entities: [{ id: "c", lastSeqNo: 1 }] });
  });

  it("events shows JSON as JSON, other bytes as hex, and uses the binarizer module given", async () => {
    const [plain, binary, decoded, text] = await Promise.all([
      runJson<{ evts: Array<Record<string, unknown>> }>(["events", "acct", "a", ...db]),
      runJson<{ evts: Array<Record<string, unknown>> }>(["events", "acct", "b", ...db]),
      runJson<{ evts: Array<Record<string, unknown>> }>([
        "events",
        "acct",
        "a",
        "--from",
        "2",
        "--binarizer",
        BINARIZER_MODULE,
        ...db,
      ]),
      runCli(["events", "acct", "a", ...db]),
    ]);
    expect(plain.evts.map((e) => [e.seqNo, e.encoding, e.evt])).toEqual([
      [1, "json", { amount: 5 }],
      [2, "json", { amount: -2 }],
    ]);
    expect(binary.evts.map((e) => [e.encoding, e.evt])).toEqual([["hex", "ff00"]]);
    expect(decoded.evts.map((e) => [e.seqNo, e.encoding, e.evt])).toEqual([
      [2, "binarizer", { decodedBy: "module", amount: -2 }],
    ]);
    expect(lines(text.stdout)).toHaveLength(2);
    expect(lines(text.stdout)[0]).toMatch(/^1 {2}\d{4}-\d\d-\d\dT[\d:.]+Z {2}json {2}\{"amount":5\}$/);
  });

  it("a binarizer module without a binarizer export is a usage error (exit 2) naming what it exports", async () => {
    const run = await runCli(["events", "acct", "a", "--binarizer", `${BINARIZER_MODULE}#nope`, ...db]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "has no binarizer export named nope (an object with evtFromBytes and stateFromBytes; exports: binarizer)",
    );
  });

  it("snapshots list and show; delete needs --yes and then deletes", async () => {
    const [list, show] = await Promise.all([
      runJson(["snapshots", "list", "acct", "a", ...db]),
      runJson(["snapshots", "show", "acct", "a", "--binarizer", BINARIZER_MODULE, ...db]),
    ]);
    expect(list).toEqual({ type: "acct", id: "a", snapshots: [{ seqNo: 2, version: "v1", bytes: 13 }] });
    expect(show).toEqual({
      type: "acct",
      id: "a",
      seqNo: 2,
      version: "v1",
      encoding: "binarizer",
      state: { decodedBy: "module", version: "v1", balance: 3 },
    });
    const unconfirmed = await runCli(["snapshots", "delete", "acct", "a", ...db]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toBe(
      "eventsourced: snapshots delete: add --yes to confirm (nothing was changed)\n",
    );
    expect(await runJson(["snapshots", "delete", "acct", "a", "--yes", ...db])).toEqual({
      type: "acct",
      id: "a",
      deleted: 1,
    });
    const gone = await runCli(["snapshots", "show", "acct", "a", ...db]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('eventsourced: no snapshot of acct/"a"\n');
  });

  it("projections list, status and lag report the stored checkpoint against the log's head", async () => {
    const [list, status, lag, text] = await Promise.all([
      runJson<{ projections: Array<Record<string, unknown>> }>(["projections", "list", ...db]),
      runJson<Record<string, unknown>>(["projections", "status", "totals", ...db]),
      runJson<{ projections: Array<Record<string, unknown>> }>(["lag", ...db]),
      runCli(["lag", ...db]),
    ]);
    expect(list.projections.map((p) => [p.name, p.type, p.status, p.position, p.epoch])).toEqual([
      ["totals", "acct", "running", 2, 0],
    ]);
    expect(status).toMatchObject({
      name: "totals",
      deadLetters: 2,
      lag: { position: 2, headPosition: head },
    });
    expect(lag.projections).toEqual([
      expect.objectContaining({ name: "totals", position: 2, headPosition: head, events: head - 2 }),
    ]);
    expect(lines(text.stdout)[0]).toBe("NAME    TYPE  STATUS   POSITION  HEAD  LAG  LAG TIME");
  });

  it("reset refuses a running projection; pause, reset and resume move it", async () => {
    const refused = await runCli(["projections", "reset", "totals", "0", "--yes", ...db]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("totals is running: pause it first");
    expect((await projections.load("totals"))?.position).toBe(2);

    expect(await runJson(["projections", "pause", "totals", ...db])).toEqual({
      name: "totals",
      previous: "running",
      status: "paused",
    });
    expect(await runJson(["projections", "reset", "totals", "1", "--yes", ...db])).toMatchObject({
      previousPosition: 2,
      position: 1,
      status: "paused",
    });
    expect(await projections.load("totals")).toMatchObject({ position: 1, status: "paused" });
    expect((await runCli(["projections", "resume", "totals", ...db])).code).toBe(0);
    expect((await projections.load("totals"))?.status).toBe("running");
    const missing = await runCli(["projections", "pause", "nope", ...db]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'eventsourced: no projection named "nope" (`eventsourced projections list` shows them)\n',
    );
  });

  it("reset beyond the head of the projection's type is refused and changes nothing (later events would be skipped)", async () => {
    expect((await runCli(["projections", "pause", "totals", ...db])).code).toBe(0);
    const before = (await projections.load("totals"))?.position;
    const refused = await runCli(["projections", "reset", "totals", "999999999", "--yes", ...db]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/beyond the head of type acct .*nothing was changed/);
    expect(await projections.load("totals")).toMatchObject({ position: before, status: "paused" });
    expect((await runCli(["projections", "resume", "totals", ...db])).code).toBe(0);
  });

  it("dead-letters list decodes the event; redrive is stored for the running instance, which performs it", async () => {
    const list = await runJson<{ deadLetters: Array<Record<string, unknown>> }>([
      "dead-letters",
      "list",
      "totals",
      ...db,
    ]);
    expect(list.deadLetters[0]).toMatchObject({
      position: 1,
      id: "a",
      attempts: 4,
      error: "handler failed: boom",
      encoding: "json",
      evt: { amount: 5 },
    });
    // The reset to 1 above dropped the dead letter at 2.
    expect(list.deadLetters.map((l) => l.position)).toEqual([1]);
    // No instance runs yet: the request is stored and waits for one.
    expect(await runJson(["dead-letters", "redrive", "totals", "1", "--wait", "0", ...db])).toMatchObject({
      projection: "totals",
      position: 1,
      performed: false,
    });
    const pending = await runCli(["projections", "status", "totals", ...db]);
    expect(pending.stdout).toMatch(/pending request [0-9a-f-]+: redrive 1 \(since /);

    instance = startInstance();
    await waitUntil(
      async () => (await projections.load("totals"))?.requests === undefined,
      "the stored re-drive",
    );
    expect(applied).toContain(5);
    // The binary event (position 3) cannot be decoded by the instance's JSON binarizer: a dead letter, and
    // re-driving it fails again, so it stays.
    await waitUntil(
      async () => (await projections.deadLetters("totals")).length === 1,
      "the undecodable event",
    );
    const again = await runCli(["dead-letters", "redrive", "totals", "3", ...db]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      "eventsourced: totals: the handler failed again on the dead letter at position 3; it stays (the application's log has the error)\n",
    );
    expect(await runJson(["dead-letters", "delete", "totals", "3", "--yes", ...db])).toEqual({
      projection: "totals",
      position: 3,
      deleted: true,
    });
    const missing = await runCli(["dead-letters", "redrive", "totals", "3", ...db]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("eventsourced: totals has no dead letter at position 3\n");
  });

  it("projections rebuild has the running instance reset its read model and replay the log", async () => {
    await waitUntil(async () => (await projections.load("totals"))?.position === head, "the catch-up");
    expect(await runJson(["projections", "rebuild", "totals", "--yes", ...db])).toMatchObject({
      name: "totals",
      performed: true,
    });
    await waitUntil(async () => (await projections.load("totals"))?.position === head, "the replay");
    expect(applied).toEqual([5, -2, 1]);
  });

  it("reads the evtLog section of the counter example's config file, with DATABASE_URL", async () => {
    const run = await runCli(["schema", "status", "--json"], {
      CONFIG_DIR: new URL("../../../examples/counter/config/", import.meta.url).pathname,
      DATABASE_URL,
    });
    // 0 or 1: whether the shared server's `counter` schema is up to date depends on earlier runs.
    expect([0, 1]).toContain(run.code);
    expect((JSON.parse(run.stdout) as { where: string }).where).toBe(
      `PostgreSQL at ${DATABASE_URL}, schema counter`,
    );
  });
});

describe("the eventsourced CLI's failures", { timeout: 60_000 }, () => {
  it("a bad config value exits 2 naming the key and the env var", async () => {
    const run = await runCli(["lag"], { APP__EVT_LOG__POSTGRES__SCHEMA: "1bad", DATABASE_URL });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      'eventsourced: config key evtLog.postgres.schema must be a letter, then letters, digits, _ or -, got "1bad" (from env var APP__EVT_LOG__POSTGRES__SCHEMA)',
    ]);
    expect(run.stdout).toBe("");
  });

  it("with --json, a bad config is one JSON error on stderr with the key", async () => {
    const run = await runCli(["lag", "--json"], { APP__EVT_LOG__KIND: "mysql" });
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stderr)).toEqual({
      error: {
        code: "CONFIGURATION_INVALID",
        key: "evtLog.kind",
        message:
          'config key evtLog.kind must be one of postgres, nats, got "mysql" (from env var APP__EVT_LOG__KIND)',
      },
    });
  });

  it("no PostgreSQL URL anywhere exits 2 naming evtLog.postgres.url", async () => {
    const run = await runCli(["lag"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^eventsourced: config key evtLog.postgres.url is empty/);
  });

  it("--help lists every command and exits 0; --version prints the package's version", async () => {
    const [help, version] = await Promise.all([runCli(["--help"]), runCli(["--version", "--json"])]);
    expect(help.code).toBe(0);
    for (const command of ["schema migrate", "entities list <type>", "dead-letters redrive", "lag"]) {
      expect(help.stdout).toContain(command);
    }
    expect(JSON.parse(version.stdout)).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
  });

  it("an unknown command or option exits 2", async () => {
    const [command, option] = await Promise.all([runCli(["frobnicate"]), runCli(["lag", "--frob"])]);
    expect(command.code).toBe(2);
    expect(command.stderr).toBe('eventsourced: unknown command "frobnicate" (--help lists them)\n');
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("Unknown option '--frob'");
  });

  it("an unreachable PostgreSQL exits 1 with one line naming the URL without its password", async () => {
    const run = await runCli(["lag", "--url", "postgres://app:s3cret@127.0.0.1:1/app"]);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toMatch(
      /^eventsourced: cannot connect to PostgreSQL at postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/app /,
    );
    expect(run.stderr + run.stdout).not.toContain("s3cret");
  });

  it("an unreachable NATS server exits 1 with one line, the password from config never printed", async () => {
    const run = await runCli(["lag", "--json"], {
      APP__EVT_LOG__KIND: "nats",
      APP__EVT_LOG__NATS__URL: "nats://app:s3cret@127.0.0.1:1",
      APP__EVT_LOG__NATS__PASSWORD: "s3cret",
    });
    expect(run.code).toBe(1);
    const { error } = JSON.parse(run.stderr) as { error: { code: string; message: string } };
    expect(error.code).toBe("CONNECTION_FAILED");
    expect(error.message).toMatch(/^cannot connect to NATS at nats:\/\/app:\*\*\*@127\.0\.0\.1:1 /);
    expect(run.stderr + run.stdout).not.toContain("s3cret");
  });
});
