import { ClusterClient, ClusterNode, NatsClusterStore, NatsTransport, shardOf } from "@eventsourced/cluster";
import { PostgresClusterStore } from "@eventsourced/cluster/postgres";
import { ConfigurationError, InvalidArgumentError, isEventSourcedError } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import { NatsLeaseStore } from "@eventsourced/leases/nats";
import { Kvm } from "@nats-io/kv";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { deleteStream, uniqueName } from "../../evtlog-nats/test/support/nats-test-env.js";
import { DATABASE_URL, dropSchema, uniqueSchemaName } from "../../evtlog-postgres/test/pg-test-database.js";
import { decodeReply, encodeRequest } from "../src/envelope.js";
import { ClusterEnv, eventually } from "./support/cluster-env.js";

const encoder = new TextEncoder();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

/** The code of an error reply, or the reply's kind. */
function replyCode(bytes: Uint8Array): string {
  const reply = decodeReply(bytes);
  return reply.kind === "error" ? reply.failure.code : reply.kind;
}

/** A JSON-envelope request as the client writes it, with any field forged. */
function jsonRequest(timeout: string, id: string, commandId: string, json: string): Uint8Array {
  return encoder.encode(`\x02${timeout} ${id.length} ${id}${commandId.length} ${commandId}${json}`);
}

describe("Hostile input on a node's routing subjects", () => {
  let env: ClusterEnv;
  let log: InMemoryEvtLog;
  let subject: (id: string) => string;
  beforeAll(async () => {
    process.on("unhandledRejection", onUnhandled);
    env = await new ClusterEnv().setup();
    log = new InMemoryEvtLog();
    const node = env.node(log, { shardCount: 4 });
    await node.start();
    await eventually(() => node.shards.length === 4);
    subject = (id) => `eventsourced.cluster.${env.cluster}.${env.typeName}.${shardOf(id, 4)}`;
  });
  afterAll(async () => {
    await env.teardown();
    process.off("unhandledRejection", onUnhandled);
  });

  const cmd = encoder.encode(JSON.stringify({ type: "inc", by: 1 }));
  const cases: [string, () => { id: string; payload: Uint8Array }, string][] = [
    ["an empty payload", () => ({ id: "a", payload: new Uint8Array(0) }), "INVALID_ARGUMENT"],
    [
      "random bytes",
      () => ({ id: "a", payload: Uint8Array.of(1, 255, 254, 0, 7, 9, 9, 9, 1) }),
      "INVALID_ARGUMENT",
    ],
    [
      "a JSON envelope with a malformed command",
      () => ({ id: "a", payload: jsonRequest("100", "a", "k1", "{nope") }),
      "INVALID_ARGUMENT",
    ],
    [
      "a JSON envelope with NaN lengths",
      () => ({ id: "a", payload: encoder.encode("\x02x y z") }),
      "INVALID_ARGUMENT",
    ],
    [
      "a binary envelope whose command is not JSON",
      () => ({ id: "a", payload: encodeRequest("a", "k2", 100, Uint8Array.of(0xff)) }),
      "DECODE_FAILED",
    ],
    [
      "an empty command id",
      () => ({ id: "a", payload: encodeRequest("a", "", 100, cmd) }),
      "INVALID_ARGUMENT",
    ],
    [
      "a 10 KB command id",
      () => ({ id: "a", payload: encodeRequest("a", "k".repeat(10_000), 100, cmd) }),
      "INVALID_ARGUMENT",
    ],
    [
      "a command id with NUL",
      () => ({ id: "a", payload: encodeRequest("a", "k\0", 100, cmd) }),
      "INVALID_ARGUMENT",
    ],
    [
      "a NaN deadline",
      () => ({ id: "a", payload: jsonRequest("NaN", "a", "k3", '{"type":"get"}') }),
      "INVALID_ARGUMENT",
    ],
    [
      "an id of 600 bytes",
      () => ({ id: "x".repeat(600), payload: encodeRequest("x".repeat(600), "k4", 100, cmd) }),
      "INVALID_ARGUMENT",
    ],
    [
      "an id with NUL",
      () => ({ id: "a\0", payload: encodeRequest("a\0", "k5", 100, cmd) }),
      "INVALID_ARGUMENT",
    ],
    ["an empty id", () => ({ id: "", payload: encodeRequest("", "k6", 100, cmd) }), "INVALID_ARGUMENT"],
    [
      "a deeply nested command",
      () => ({
        id: "a",
        payload: jsonRequest("100", "a", "k9", `${"[".repeat(400_000)}${"]".repeat(400_000)}`),
      }),
      "INVALID_ARGUMENT",
    ],
    [
      "a null command",
      () => ({ id: "a", payload: jsonRequest("100", "a", "k7", "null") }),
      "INVALID_ARGUMENT",
    ],
  ];

  for (const [name, make, code] of cases) {
    it(`answers ${name} with a typed error reply, writes nothing, keeps serving`, async () => {
      const { id, payload } = make();
      const reply = await env.nc.request(subject(id), payload, { timeout: 10_000 });
      expect(replyCode(reply.data)).toBe(code);
      env.nc.publish(subject(id), payload); // without a reply subject: dropped
      expect(await env.nodes[0]!.send("ok", { type: "inc", by: 1 })).toMatchObject({ kind: "accepted" });
      const written = new Set<string>();
      for await (const r of log.evtsByType(env.typeName)) written.add(r.id);
      expect([...written]).toEqual(["ok"]);
      expect(unhandled).toEqual([]);
    });
  }

  it("answers an id sent to another shard's subject with SHARD_CONFIG_MISMATCH", async () => {
    const other = `eventsourced.cluster.${env.cluster}.${env.typeName}.${(shardOf("a", 4) + 1) % 4}`;
    const reply = await env.nc.request(other, encodeRequest("a", "k8", 100, cmd), { timeout: 10_000 });
    expect(replyCode(reply.data)).toBe("SHARD_CONFIG_MISMATCH");
  });

  it("survives a payload near the server's limit and an unknown type's subject", async () => {
    const huge = new Uint8Array(900_000).fill(0x7b);
    const reply = await env.nc.request(subject("a"), huge, { timeout: 10_000 });
    expect(replyCode(reply.data)).toBe("INVALID_ARGUMENT");
    env.nc.publish(`eventsourced.cluster.${env.cluster}.NoSuchType.0`, cmd);
    env.nc.publish(`eventsourced.cluster.${env.cluster}.${env.typeName}.hint`, Uint8Array.of(0xff));
    env.nc.publish(`eventsourced.cluster.${env.cluster}.${env.typeName}.99999`, cmd);
    expect(await env.nodes[0]!.send("ok", { type: "get" })).toMatchObject({ kind: "accepted" });
  });
});

describe("Garbage in the cluster's KV buckets", () => {
  let env: ClusterEnv;
  const buckets: string[] = [];
  afterEach(async () => {
    for (const bucket of buckets.splice(0)) await deleteStream(env.nc, `KV_${bucket}`);
    await env?.teardown();
  });

  for (const [name, value] of [
    ["not JSON", "garbage{"],
    ["JSON of another shape", '{"count":16}'],
    ["a shard count of 0", '{"shardCount":0,"hash":"fnv1a32-utf8"}'],
    ["JSON null", "null"],
  ] as const) {
    it(`refuses to start on a shard-function record that is ${name}, naming the key`, async () => {
      env = await new ClusterEnv().setup();
      const prefix = uniqueName("clh");
      buckets.push(`${prefix}-config`, `${prefix}-members-3000ms`);
      const store = await NatsClusterStore.create(env.nc, { memberTtlMs: 3_000, bucketPrefix: prefix });
      const kv = await new Kvm(env.nc).open(`${prefix}-config`);
      await kv.put(`${env.cluster}.shard-function`, encoder.encode(value));
      const error = await env
        .node(new InMemoryEvtLog(), { store })
        .start()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).key).toBe(`${env.cluster}.shard-function`);
    });
  }

  it("keeps running with a member key and value written by something else", async () => {
    env = await new ClusterEnv().setup();
    const prefix = uniqueName("clh");
    buckets.push(`${prefix}-config`, `${prefix}-members-3000ms`);
    const store = await NatsClusterStore.create(env.nc, { memberTtlMs: 3_000, bucketPrefix: prefix });
    const kv = await new Kvm(env.nc).open(`${prefix}-members-3000ms`);
    await kv.put(`${env.cluster}.${env.typeName}.intruder`, Uint8Array.of(0xff, 0));
    await kv.put(`${env.cluster}.${env.typeName}.a.b`, encoder.encode("x"));
    const node = env.node(new InMemoryEvtLog(), { store, shardCount: 4 });
    await node.start();
    expect(node.state).toBe("running");
  });
});

describe("Foreign lease keys and stray replies", () => {
  it("keeps running and serving with a shard lease key written by something else", async () => {
    process.on("unhandledRejection", onUnhandled);
    const env = await new ClusterEnv().setup();
    const bucket = uniqueName("clh_leases");
    try {
      const leaseStore = await NatsLeaseStore.create({ connection: env.nc, bucket, ttlMs: 2_000 });
      const kv = await new Kvm(env.nc).open(bucket);
      const foreign = shardOf("a", 4);
      await kv.put(`cluster.${env.cluster}.${env.typeName}.${foreign}`, Uint8Array.of(0xff, 0, 0x7b));
      const node = env.node(new InMemoryEvtLog(), { leaseStore, shardCount: 4 });
      await node.start();
      await eventually(() => node.shards.length >= 3);
      const other = ["b", "c", "d", "e", "f", "g"].find((id) => shardOf(id, 4) !== foreign)!;
      expect(await node.send(other, { type: "inc", by: 1 })).toMatchObject({ kind: "accepted" });
      expect(node.state).toBe("running");
      await node.stop();
      await leaseStore.close();
      expect(unhandled).toEqual([]);
    } finally {
      await deleteStream(env.nc, `KV_${bucket}`);
      await env.teardown();
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("ignores a reply to an expired attempt and duplicate or garbage replies", async () => {
    process.on("unhandledRejection", onUnhandled);
    const env = await new ClusterEnv().setup();
    try {
      let calls = 0;
      const sub = env.nc.subscribe(`eventsourced.cluster.${env.cluster}.${env.typeName}.*`, {
        callback: (_err, msg) => {
          calls++;
          const answer = encoder.encode('\x04{"kind":"accepted","reply":7}');
          if (calls === 1) {
            setTimeout(() => msg.respond(answer), 300); // after the attempt gave up
            return;
          }
          msg.respond(answer);
          msg.respond(answer);
          msg.respond(Uint8Array.of(0xff, 0xfe));
        },
      });
      const client = new ClusterClient({
        typeName: env.typeName,
        cluster: env.cluster,
        shardCount: 4,
        transport: new NatsTransport(env.nc),
        retry: { attemptTimeoutMs: 50, defaultTimeoutMs: 10_000 },
      });
      expect(await client.send("a", { type: "get" })).toMatchObject({ kind: "accepted", reply: 7 });
      expect(await client.send("b", { type: "get" })).toMatchObject({ kind: "accepted", reply: 7 });
      await new Promise((resolve) => setTimeout(resolve, 400));
      sub.unsubscribe();
      expect(unhandled).toEqual([]);
    } finally {
      await env.teardown();
      process.off("unhandledRejection", onUnhandled);
    }
  });
});

describe("Garbage in the cluster's PostgreSQL tables", () => {
  it("refuses to start on a tampered config row, naming the key; ignores a foreign member row", async () => {
    const env = await new ClusterEnv().setup();
    const schema = uniqueSchemaName("clh");
    const store = await PostgresClusterStore.create({
      connectionString: DATABASE_URL,
      schema,
      memberTtlMs: 3_000,
      maxConnections: 2,
    });
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    try {
      await client.query(
        `INSERT INTO ${schema}.cluster_members (cluster, type, member, expires_at)
         VALUES ($1, $2, 'not a node id!', now() + interval '1 hour')`,
        [env.cluster, env.typeName],
      );
      await client.query(
        `INSERT INTO ${schema}.cluster_config (cluster, shard_count, hash) VALUES ($1, 0, '')`,
        [env.cluster],
      );
      const error = await env
        .node(new InMemoryEvtLog(), { store })
        .start()
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).key).toBe(`${env.cluster}.shard-function`);
      await client.query(`UPDATE ${schema}.cluster_config SET shard_count = 4, hash = 'fnv1a32-utf8'`);
      const node = env.node(new InMemoryEvtLog(), { store, shardCount: 4 });
      await node.start();
      expect(node.state).toBe("running");
    } finally {
      await client.end();
      await env.teardown();
      await store.close();
      await dropSchema(schema);
    }
  });
});

describe("Hostile options", () => {
  const transport = {
    request: async () => ({ kind: "no-responders" as const }),
    serve: () => ({ stop: async () => {} }),
    publish: () => {},
    subscribe: () => ({ stop: async () => {} }),
  };
  const client = (options: object = {}) => new ClusterClient({ typeName: "Counter", transport, ...options });

  it("refuses bad client options with a typed error naming the option", () => {
    for (const shardCount of [0, -1, 1.5, Number.NaN, 1e9, Infinity]) {
      expect(() => client({ shardCount })).toThrow(/shardCount/);
    }
    for (const [key, retry] of [
      ["retry.defaultTimeoutMs", { defaultTimeoutMs: Number.NaN }],
      ["retry.attemptTimeoutMs", { attemptTimeoutMs: -1 }],
      ["retry", 5],
      ["retry", null],
    ] as const) {
      const error = (() => {
        try {
          client({ retry });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).key).toBe(key);
    }
    expect(() => new ClusterClient(null as never)).toThrow(InvalidArgumentError);
    for (const [key, options] of [
      ["codec", { codec: {} }],
      ["codec", { codec: { encode: () => new Uint8Array(0) } }],
      ["transport", { transport: { request: 1 } }],
    ] as const) {
      const error = (() => {
        try {
          client(options);
        } catch (e) {
          return e;
        }
      })();
      expect(error, key).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).key).toBe(key);
    }
    expect(() => client({ cluster: "a.b" })).toThrow(ConfigurationError);
    expect(() => client({ subjectPrefix: "a..b" })).toThrow(ConfigurationError);
  });

  it("refuses bad node and store options with a typed error naming the option", async () => {
    const env = await new ClusterEnv().setup();
    try {
      const log = new InMemoryEvtLog();
      const fails = (options: object): unknown => {
        try {
          env.node(log, options);
        } catch (e) {
          return e;
        }
        return undefined;
      };
      for (const [key, options] of [
        ["rebalanceEveryMs", { rebalanceEveryMs: Number.NaN }],
        ["maxMoveFraction", { maxMoveFraction: Number.NaN }],
        ["maxInFlight", { maxInFlight: -1 }],
        ["handoverTimeoutMs", { handoverTimeoutMs: Infinity }],
        ["stopTimeoutMs", { stopTimeoutMs: 0 }],
        ["stopTimeoutMs", { stopTimeoutMs: Number.NaN }],
        ["minMembers", { minMembers: 1.5 }],
        ["nodeId", { nodeId: "a.b" }],
        ["cluster", { cluster: "" }],
        ["store", { store: { heartbeat: () => {} } }],
        ["codec", { codec: 42 }],
      ] as const) {
        const error = fails(options);
        expect(error, key).toBeInstanceOf(ConfigurationError);
        expect((error as ConfigurationError).key).toBe(key);
      }
      for (const shardCount of [0, -1, 1.5, Number.NaN, 1e9]) {
        expect(fails({ shardCount })).toBeInstanceOf(InvalidArgumentError);
      }
      for (const lease of [{ marginMs: Number.NaN }, { renewEveryMs: -5 }, { pollMs: Infinity }]) {
        expect(isEventSourcedError(fails({ lease })), JSON.stringify(lease)).toBe(true);
      }
      expect(() => new ClusterNode(env.entity, null as never)).toThrow(InvalidArgumentError);
      for (const memberTtlMs of [Number.NaN, 0, Infinity, 1.5]) {
        const error = await NatsClusterStore.create(env.nc, { memberTtlMs }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConfigurationError);
        expect((error as ConfigurationError).key).toBe("memberTtlMs");
      }
    } finally {
      await env.teardown();
    }
  });

  it("refuses bad send arguments at entry, before anything is sent", async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    let sent = 0;
    const c = new ClusterClient({
      typeName: "Counter",
      transport: {
        ...transport,
        request: async () => {
          sent++;
          return { kind: "no-responders" as const };
        },
      },
    });
    const bad: [unknown, unknown, unknown][] = [
      ["x".repeat(600), {}, undefined],
      ["a\0", {}, undefined],
      ["\ud800", {}, undefined],
      [42, {}, undefined],
      ["a", null, undefined],
      ["a", undefined, undefined],
      ["a", {}, { commandId: 42 }],
      ["a", {}, { commandId: "" }],
      ["a", {}, { commandId: "k".repeat(10_000) }],
      ["a", {}, { commandId: "\ud800" }],
      ["a", {}, { commandId: "k\0" }],
      ["a", {}, { timeoutMs: Number.NaN }],
      ["a", {}, { timeoutMs: -1 }],
      ["a", {}, { timeoutMs: Infinity }],
      ["a", {}, null],
      ["a", circular, undefined],
      ["a", () => 1, undefined],
      ["a", Symbol("s"), undefined],
    ];
    for (const entry of bad) {
      const [id, cmd, options] = entry;
      const error = await c.send(id as string, cmd, options as never).catch((e: unknown) => e);
      expect(error, `case ${bad.indexOf(entry)}`).toBeInstanceOf(InvalidArgumentError);
    }
    expect(sent).toBe(0);
  });

  it("turns a garbage reply into a typed error, not a crash", async () => {
    for (const payload of [
      new Uint8Array(0),
      Uint8Array.of(3, 0xff),
      Uint8Array.of(4, 0x7b),
      Uint8Array.of(3, ...encoder.encode("null")),
      Uint8Array.of(3, ...encoder.encode('{"code":1,"retryable":"yes"}')),
      Uint8Array.of(9),
    ]) {
      const c = new ClusterClient({
        typeName: "Counter",
        transport: { ...transport, request: async () => ({ kind: "reply" as const, payload }) },
        retry: { defaultTimeoutMs: 200 },
      });
      const error = await c.send("a", { type: "get" }).catch((e: unknown) => e);
      expect(isEventSourcedError(error), String(error)).toBe(true);
    }
  });
});
