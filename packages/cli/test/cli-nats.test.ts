import { NatsEvtLog } from "@eventsourced/evtlog-nats";
import { NatsKvProjectionStore } from "@eventsourced/projections/nats";
import { NatsSnapshotStore } from "@eventsourced/snapshots/nats";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectTestNats,
  deleteStream,
  NATS_URL,
  uniqueName,
} from "../../projections/test/support/nats-env.js";
import { assertBuilt, BINARIZER_MODULE, runCli, runJson } from "./support/cli-process.js";

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe("the eventsourced CLI on NATS", { timeout: 60_000 }, () => {
  const stream = uniqueName("cli");
  const projectionsBucket = uniqueName("cli_proj");
  const fresh = uniqueName("cli_fresh");
  const env = {
    APP__EVT_LOG__KIND: "nats",
    NATS_URL,
    APP__EVT_LOG__NATS__STREAM: stream,
    APP__PROJECTIONS__NATS_BUCKET: projectionsBucket,
  };
  let nc: NatsConnection;
  let log: NatsEvtLog;
  let projections: NatsKvProjectionStore;
  let head = 0;

  beforeAll(async () => {
    assertBuilt();
    nc = await connectTestNats();
    // The CLI's defaults for a stream: subjects <stream>.>, snapshots in <stream>-snapshots.
    log = await NatsEvtLog.connect({ connection: nc, stream: { name: stream, subjectPrefix: stream } });
    await log.persist("acct", "a.1", 0, [{ bytes: bytes({ amount: 5 }) }, { bytes: bytes({ amount: 1 }) }]);
    head = (await log.persist("acct", "b", 0, [{ bytes: bytes({ amount: 2 }) }])).position;
    const snapshots = await NatsSnapshotStore.create({ connection: nc, bucket: `${stream}-snapshots` });
    await snapshots.save("acct", "a.1", { seqNo: 2, bytes: bytes({ balance: 6 }) });
    projections = await NatsKvProjectionStore.create({ connection: nc, bucket: projectionsBucket });
    await projections.claim("audit", "acct", 0);
  });
  afterAll(async () => {
    await log?.close();
    const kvm = new Kvm(nc);
    for (const bucket of [`${stream}-snapshots`, projectionsBucket, `${fresh}-snapshots`]) {
      await (await kvm.open(bucket)).destroy().catch(() => {});
    }
    await deleteStream(nc, stream);
    await deleteStream(nc, fresh);
    await nc?.close();
  });

  it("schema status and migrate: the stream and the buckets", async () => {
    const freshEnv = { ...env, APP__EVT_LOG__NATS__STREAM: fresh };
    // Not up to date: exit 1 with the report on stdout.
    const status = await runCli(["schema", "status", "--json"], freshEnv);
    expect(status.code).toBe(1);
    const before = JSON.parse(status.stdout) as { components: Array<{ component: string; state: string }> };
    expect(before.components.map((c) => [c.component, c.state])).toEqual([
      [`stream:${fresh}`, "missing"],
      [`kv:${fresh}-snapshots`, "missing"],
      [`kv:${projectionsBucket}`, "up-to-date"],
    ]);
    const after = await runJson<{ upToDate: boolean }>(["schema", "migrate"], freshEnv);
    expect(after.upToDate).toBe(true);
    expect(await runJson<{ upToDate: boolean }>(["schema", "status"], freshEnv)).toMatchObject({
      upToDate: true,
    });
  });

  it("entities list, events and snapshots show read the stream and the bucket", async () => {
    const [entities, evts, snapshot] = await Promise.all([
      runJson(["entities", "list", "acct"], env),
      runJson<{ evts: Array<Record<string, unknown>> }>(
        ["events", "acct", "a.1", "--binarizer", BINARIZER_MODULE],
        env,
      ),
      runJson(["snapshots", "show", "acct", "a.1"], env),
    ]);
    expect(entities).toEqual({
      type: "acct",
      entities: [
        { id: "a.1", lastSeqNo: 2 },
        { id: "b", lastSeqNo: 1 },
      ],
    });
    expect(evts.evts.map((e) => [e.seqNo, e.evt])).toEqual([
      [1, { decodedBy: "module", amount: 5 }],
      [2, { decodedBy: "module", amount: 1 }],
    ]);
    expect(snapshot).toMatchObject({ seqNo: 2, encoding: "json", state: { balance: 6 } });
  });

  it("projections pause and lag act on the KV checkpoint", async () => {
    expect(await runJson(["projections", "pause", "audit"], env)).toMatchObject({ status: "paused" });
    expect((await projections.load("audit"))?.status).toBe("paused");
    const lag = await runJson<{ projections: Array<Record<string, unknown>> }>(["lag"], env);
    expect(lag.projections).toEqual([
      expect.objectContaining({
        name: "audit",
        status: "paused",
        position: 0,
        headPosition: head,
        events: head,
      }),
    ]);
  });

  it("projections rebuild stores a request in the KV checkpoint for the running instance", async () => {
    const requested = await runJson(["projections", "rebuild", "audit", "--yes", "--wait", "0"], env);
    expect(requested).toMatchObject({ name: "audit", performed: false });
    const row = await projections.load("audit");
    expect(row?.requests?.map((r) => r.kind)).toEqual(["rebuild"]);
    const status = await runCli(["projections", "status", "audit"], env);
    expect(status.stdout).toContain(`pending request ${row?.requests?.[0]?.id}: rebuild`);
  });

  it("a stream that does not exist is refused (exit 1), not created", async () => {
    const missing = uniqueName("cli_none");
    const run = await runCli(["entities", "list", "acct"], { ...env, APP__EVT_LOG__NATS__STREAM: missing });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the event stream ${missing} does not exist`);
    const status = await runCli(["schema", "status", "--json"], {
      ...env,
      APP__EVT_LOG__NATS__STREAM: missing,
    });
    expect(status.code).toBe(1);
    expect((JSON.parse(status.stdout) as { components: Array<{ state: string }> }).components[0]?.state).toBe(
      "missing",
    );
  });
});
