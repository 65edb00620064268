import { EntityRegistry, silentLogger } from "@eventsourced/core";
import { InMemoryEvtLog, uniqueTypeName } from "@eventsourced/core/testing";
import { LeaseKeeper } from "@eventsourced/leases";
import { InMemoryLeaseStore } from "@eventsourced/leases/testing";
import { atLeastOnce, Projection } from "@eventsourced/projections";
import { InMemoryProjectionStore } from "@eventsourced/projections/testing";
import { afterEach, describe, expect, it } from "vitest";
import { accountEntity, type Moved, movedBinarizer, waitUntil } from "./support/account.js";
import { otelHarness } from "./support/otel.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("lease metrics", () => {
  it("counts leases acquired, released and lost, and reports how many are held", async () => {
    const otel = otelHarness();
    let now = 0;
    const store = new InMemoryLeaseStore({ ttlMs: 1_000, now: () => now });
    const keeper = new LeaseKeeper(store, { logger: silentLogger, instrumentation: otel.instrumentation });
    cleanups.push(async () => {
      await keeper.close();
      await otel.shutdown();
    });
    const event = async (name: string) =>
      (await otel.points("es.lease.events")).find((p) => p.attributes["es.lease.event"] === name)?.value;
    const held = async () => (await otel.points("es.lease.held"))[0]?.value;

    const a = await keeper.acquire("projection.a");
    await keeper.acquire("projection.b");
    expect(await event("acquired")).toBe(2);
    expect(await held()).toBe(2);
    expect(keeper.held.map((l) => l.key).sort()).toEqual(["projection.a", "projection.b"]);

    await a.release();
    expect(await event("released")).toBe(1);
    expect(await held()).toBe(1);

    now += 10_000; // expired on the store's clock: the next renewal is refused
    await waitUntil(async () => (await event("lost")) === 1, "the lease to be lost");
    expect(await held()).toBe(0);
  });
});

describe("fenced projections", () => {
  it("a second instance of a projection, fenced at its checkpoint, is counted as a fenced lease event", async () => {
    const otel = otelHarness();
    const evtLog = new InMemoryEvtLog();
    const store = new InMemoryProjectionStore();
    const type = uniqueTypeName("acct");
    const make = () =>
      Projection.create<Moved>({
        name: `fenced-${type}`,
        evtLog,
        type,
        binarizer: movedBinarizer,
        handler: atLeastOnce({ store, saveAfterEvents: 1, handle: () => {} }),
        batch: { maxEvents: 1, maxWaitMs: 1 },
        logger: silentLogger,
        statusPollMs: 20,
        instrumentation: otel.instrumentation,
      });
    const first = make();
    const second = make();
    cleanups.push(async () => {
      await first.stop();
      await second.stop();
      await otel.shutdown();
    });
    first.start();
    second.start();
    const registry = new EntityRegistry(accountEntity(type), { evtLog, logger: silentLogger });
    for (let i = 0; i < 5; i++) await registry.send("a-1", { type: "deposit", amount: 1 });
    await registry.close();
    const fenced = async () =>
      (await otel.points("es.lease.events")).find((p) => p.attributes["es.lease.event"] === "fenced")?.value;
    await waitUntil(async () => (await fenced()) === 1, "one instance to be fenced");
    expect([first.status.state, second.status.state].sort()).toEqual(["failed", "running"]);
  });
});
