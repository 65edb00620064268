import {
  ClusterClient,
  ClusterNode,
  ClusterRoutingError,
  type ClusterTransport,
  NatsTransport,
  type ServedRequest,
  shardOf,
  type TransportReply,
} from "@eventsourced/cluster";
import { defineEntity, emitAndReply, silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog } from "@eventsourced/core/testing";
import type { NatsConnection } from "@nats-io/transport-node";
import { afterEach, describe, expect, it } from "vitest";
import { connectTestNats } from "../../evtlog-nats/test/support/nats-test-env.js";
import { encodeReply } from "../src/envelope.js";
import { ClusterEnv, type CounterEvt, eventually, increments } from "./support/cluster-env.js";

// ADR 0129: a former owner frozen by SIGSTOP keeps its NATS connection, and so its shard subscription, for
// minutes. To the server it is a subscriber that takes requests and never answers; here a subscription made
// by NatsTransport.serve, as a node makes it, on a connection of its own plays that part.

/** Counts the requests a client sends and how each ended. */
function counting(inner: ClusterTransport): ClusterTransport & { readonly outcomes: string[] } {
  const outcomes: string[] = [];
  return {
    outcomes,
    request: async (subject: string, payload: Uint8Array, timeoutMs: number): Promise<TransportReply> => {
      const reply = await inner.request(subject, payload, timeoutMs);
      outcomes.push(reply.kind);
      return reply;
    },
    serve: (subject, handler) => inner.serve(subject, handler),
    publish: (subject, payload) => inner.publish(subject, payload),
    subscribe: (subject, handler) => inner.subscribe(subject, handler),
  };
}

describe("A shard subscriber that never answers (a frozen former owner)", () => {
  let env: ClusterEnv;
  let frozen: NatsConnection | undefined;
  afterEach(async () => {
    await frozen?.close();
    frozen = undefined;
    await env?.teardown();
  });

  it("gets every request of the shard but cannot keep one from the owner: each is answered at its first attempt", async () => {
    env = await new ClusterEnv().setup();
    const owner = env.node(new InMemoryEvtLog());
    await owner.start();
    await eventually(() => owner.shards.length === 16);
    const id = "frozen-1";
    const shard = shardOf(id, 16);
    frozen = await connectTestNats();
    const held: ServedRequest[] = [];
    const subscription = new NatsTransport(frozen).serve(
      `eventsourced.cluster.${env.cluster}.${env.typeName}.${shard}`,
      (request) => held.push(request),
    );
    await frozen.flush(); // the server has the subscription before the first request
    const transport = counting(new NatsTransport(env.nc));
    // An attempt left to the silent subscriber alone would show as a timeout (in a queue group, half of them).
    const client = new ClusterClient({
      typeName: env.typeName,
      cluster: env.cluster,
      shardCount: 16,
      transport,
      retry: { attemptTimeoutMs: 3_000, defaultTimeoutMs: 20_000 },
    });
    for (let i = 1; i <= 10; i++) {
      expect(await client.send(id, { type: "inc", by: 1 })).toMatchObject({ kind: "accepted", reply: i });
    }
    expect(transport.outcomes).toEqual(Array.from({ length: 10 }, () => "reply"));
    await eventually(() => held.length === 10);
    await subscription.stop();
  });

  it("a NotOwner reply that beats the owner's is no proof that the command was not applied", async () => {
    env = await new ClusterEnv().setup();
    // The owner decides only once the test lets it: every reply it would send comes after the sender gave up.
    let decide!: () => void;
    const decided = new Promise<void>((resolve) => {
      decide = resolve;
    });
    const gated = defineEntity<number, { readonly by: number }, CounterEvt, number, never>({
      typeName: env.typeName,
      initialState: () => 0,
      handleCmd: async (_state, cmd) => {
        await decided;
        return emitAndReply<number, CounterEvt, number>([{ type: "increased", by: cmd.by }], (s) => s);
      },
      handleEvt: (state, evt) => state + evt.by,
    });
    const evtLog = new InMemoryEvtLog();
    const owner = new ClusterNode(gated, {
      cluster: env.cluster,
      nats: env.nc,
      leaseStore: env.leaseStore,
      store: env.store,
      shardCount: 16,
      logger: silentLogger,
      registry: { evtLog, logger: silentLogger },
    });
    env.nodes.push(owner as never);
    await owner.start();
    await eventually(() => owner.shards.length === 16);
    const id = "beaten-1";
    // A former owner still subscribed (a node that resumed after a freeze, its lease lost): NotOwner at once.
    frozen = await connectTestNats();
    const former = new NatsTransport(frozen).serve(
      `eventsourced.cluster.${env.cluster}.${env.typeName}.${shardOf(id, 16)}`,
      (request) => request.respond(encodeReply({ kind: "not-owner" })),
    );
    await frozen.flush();
    const client = new ClusterClient({
      typeName: env.typeName,
      cluster: env.cluster,
      shardCount: 16,
      nats: env.nc,
    });
    const error = await client.send(id, { by: 1 }, { commandId: "beaten", timeoutMs: 300 }).catch((e) => e);
    decide();
    // The owner got every attempt too and applies the command (once): the sender cannot tell it was not.
    await eventually(async () => (await increments(evtLog, env.typeName, id)).length === 1);
    expect(error).toBeInstanceOf(ClusterRoutingError);
    expect(error).toMatchObject({ code: "ROUTING_FAILED", outcomeUnknown: true, commandId: "beaten" });
    expect(await client.send(id, { by: 1 }, { commandId: "beaten" })).toMatchObject({ kind: "duplicate" });
    expect(await increments(evtLog, env.typeName, id)).toEqual([1]);
    await former.stop();
  });
});
