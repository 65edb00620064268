import { silentLogger } from "@eventsourced/core";
import { LeaseKeeper } from "@eventsourced/leases";
import { InMemoryLeaseStore } from "@eventsourced/leases/testing";
import { afterEach, describe, expect, it } from "vitest";
import { waitUntil } from "./support/account.js";
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
