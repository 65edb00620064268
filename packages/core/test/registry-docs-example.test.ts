// The example in packages/core/docs/registry.md is this file's region (test/readme-code-blocks.test.ts
// checks the page shows it verbatim); here it runs.

import { expect, it } from "vitest";

it("the registry docs example runs", async () => {
  // #region registry
  const { defineEntity, emit, EntityRegistry, reject, reply } = await import("@eventsourced/core");
  const { InMemoryEvtLog, InMemorySnapshotStore } = await import("@eventsourced/core/testing");

  const cart = defineEntity({
    typeName: "cart",
    initialState: (): readonly string[] => [],
    commands: {
      add: (_items, cmd: { item: string }) => emit({ type: "added", item: cmd.item }),
      remove: (items, cmd: { item: string }) =>
        items.includes(cmd.item) ? emit({ type: "removed", item: cmd.item }) : reject("not-in-cart"),
      items: (items) => reply(items),
    },
    handleEvt: (items, evt: { type: "added" | "removed"; item: string }) =>
      evt.type === "added" ? [...items, evt.item] : items.filter((item) => item !== evt.item),
  });

  const carts = new EntityRegistry(cart, {
    evtLog: new InMemoryEvtLog(),
    snapshotStore: new InMemorySnapshotStore(),
    passivation: { idleAfterMs: 120_000, maxActive: 100_000 },
    snapshotOnPassivate: true,
  });

  await carts.send("cart-1", { type: "add", item: "apple" }, { timeoutMs: 5_000 });
  const removed = await carts.send("cart-1", { type: "remove", item: "pear" });
  // { kind: "rejected", rejection: "not-in-cart", seqNo: 1 }
  const items = await carts.send("cart-1", { type: "items" });
  // { kind: "accepted", reply: ["apple"], seqNo: 1, position: undefined }

  await carts.passivate("cart-1"); // stops it and saves a snapshot; its next command recovers it
  const { active, passivations } = carts.stats; // 0, { idle: 0, limit: 0, explicit: 1 }
  await carts.close();
  // #endregion registry

  expect(removed).toMatchObject({ kind: "rejected", rejection: "not-in-cart" });
  expect(items).toMatchObject({ kind: "accepted", reply: ["apple"] });
  expect({ active, passivations }).toEqual({ active: 0, passivations: { idle: 0, limit: 0, explicit: 1 } });
});
