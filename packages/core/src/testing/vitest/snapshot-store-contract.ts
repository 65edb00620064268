import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode, isEventSourcedError } from "../../errors/index.js";
import { MAX_ID_BYTES } from "../../evt-log.js";
import type { SnapshotStore } from "../../snapshot-store.js";
import { HOSTILE_IDS, uniqueTypeName } from "../test-ids.js";
import type { ContractSubject } from "./evt-log-contract.js";

const bytes = (...values: number[]) => new Uint8Array(values);

/** The error `call` fails with, whether it throws at the call or rejects. */
async function errorOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** What the suite asks the factory for: a store keeping this many snapshots per entity. */
export interface SnapshotStoreFactoryOptions {
  /** Snapshots kept per entity; 1 unless the history cases ask for more. */
  readonly history: number;
}

/** Options of {@link describeSnapshotStoreContract}. */
export interface SnapshotStoreContractOptions {
  /**
   * Also run the history cases (`history`, `loadAll`, `deleteAll`) on a store made with `{ history: 3 }`.
   * Default true; a store that keeps only the latest snapshot passes false.
   */
  readonly history?: boolean | undefined;
}

/**
 * The SnapshotStore contract as a vitest suite. Every adapter runs it unchanged.
 * @example
 * describeSnapshotStoreContract("InMemorySnapshotStore", async ({ history }) => ({
 *   subject: new InMemorySnapshotStore({ history }),
 * }));
 */
export function describeSnapshotStoreContract(
  name: string,
  factory: (options: SnapshotStoreFactoryOptions) => Promise<ContractSubject<SnapshotStore>>,
  options: SnapshotStoreContractOptions = {},
): void {
  describe(`SnapshotStore contract: ${name}`, () => {
    let store: SnapshotStore;
    let cleanup: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      const made = await factory({ history: 1 });
      store = made.subject;
      cleanup = made.cleanup;
    });
    afterAll(async () => {
      await cleanup?.();
    });

    it("loads nothing for an entity without a snapshot", async () => {
      expect(await store.load(uniqueTypeName(), "nobody")).toBeUndefined();
    });

    it("loads what was saved", async () => {
      const type = uniqueTypeName();
      await store.save(type, "e1", { seqNo: 42, bytes: bytes(1, 2, 3, 0, 255) });
      const loaded = await store.load(type, "e1");
      expect(loaded?.seqNo).toBe(42);
      expect(Array.from(loaded!.bytes)).toEqual([1, 2, 3, 0, 255]);
    });

    it("replaces a snapshot with a newer one", async () => {
      const type = uniqueTypeName();
      await store.save(type, "e1", { seqNo: 1, bytes: bytes(1) });
      await store.save(type, "e1", { seqNo: 5, bytes: bytes(5) });
      expect((await store.load(type, "e1"))?.seqNo).toBe(5);
    });

    it("never replaces a newer snapshot with an older one", async () => {
      const type = uniqueTypeName();
      await store.save(type, "e1", { seqNo: 10, bytes: bytes(10) });
      await store.save(type, "e1", { seqNo: 3, bytes: bytes(3) });
      const loaded = await store.load(type, "e1");
      expect(loaded?.seqNo).toBe(10);
      expect(Array.from(loaded!.bytes)).toEqual([10]);
    });

    it("keeps the highest seqNo when saves race", async () => {
      const type = uniqueTypeName();
      const seqNos = [7, 3, 9, 1, 8, 2, 6, 4, 5];
      await Promise.all(seqNos.map((seqNo) => store.save(type, "race", { seqNo, bytes: bytes(seqNo) })));
      const loaded = await store.load(type, "race");
      expect(loaded?.seqNo).toBe(9);
      expect(Array.from(loaded!.bytes)).toEqual([9]);
    });

    it("scopes snapshots by entity type and id", async () => {
      const a = uniqueTypeName("a");
      const b = uniqueTypeName("b");
      await store.save(a, "same", { seqNo: 1, bytes: bytes(1) });
      await store.save(b, "same", { seqNo: 2, bytes: bytes(2) });
      await store.save(a, "other", { seqNo: 3, bytes: bytes(3) });
      expect((await store.load(a, "same"))?.seqNo).toBe(1);
      expect((await store.load(b, "same"))?.seqNo).toBe(2);
      expect((await store.load(a, "other"))?.seqNo).toBe(3);
      expect(await store.load(b, "other")).toBeUndefined();
    });

    it("keeps hostile ids apart", async () => {
      const type = uniqueTypeName();
      for (const [i, id] of HOSTILE_IDS.entries())
        await store.save(type, id, { seqNo: i + 1, bytes: bytes(i) });
      for (const [i, id] of HOSTILE_IDS.entries()) {
        const loaded = await store.load(type, id);
        expect(loaded?.seqNo).toBe(i + 1);
        expect(Array.from(loaded!.bytes)).toEqual([i]);
      }
    });

    it("refuses a snapshot it could not store alike with InvalidArgumentError: bad seqNo, bytes or version", async () => {
      const type = uniqueTypeName();
      const bad: unknown[] = [
        null,
        { seqNo: -1, bytes: bytes(1) },
        { seqNo: 1.5, bytes: bytes(1) },
        { seqNo: 1, bytes: "text" },
        { seqNo: 1, bytes: bytes(1), version: 2 },
        { seqNo: 1, bytes: bytes(1), version: "" },
        { seqNo: 1, bytes: bytes(1), version: "v\u0000" },
        { seqNo: 1, bytes: bytes(1), version: "v\uD800" },
      ];
      for (const snapshot of bad) {
        const error = await errorOf(() => store.save(type, "s", snapshot as never));
        expect(isEventSourcedError(error, ErrorCode.InvalidArgument), JSON.stringify(snapshot)).toBe(true);
      }
      expect(await store.load(type, "s")).toBeUndefined();
    });

    it("applies the id rules on save and load: an invalid type or id is refused with InvalidArgumentError", async () => {
      const type = uniqueTypeName();
      const badIds = [
        "",
        "\uD800",
        "a\uDC00b",
        "nul\u0000inside",
        "x".repeat(MAX_ID_BYTES + 1),
        // 171 three-byte characters: 513 bytes of UTF-8 in 171 UTF-16 units.
        "\u20AC".repeat(171),
      ];
      const cases = [
        ...badIds.map((id) => [type, id] as const),
        ...["", "bad.type", "*", "1st", "a b"].map((badType) => [badType, "x"] as const),
      ];
      for (const [t, id] of cases) {
        for (const call of [
          () => store.save(t, id, { seqNo: 1, bytes: bytes(1) }),
          () => store.load(t, id),
        ]) {
          const error = await errorOf(call);
          expect(
            isEventSourcedError(error, ErrorCode.InvalidArgument),
            `type ${JSON.stringify(t)}, id ${JSON.stringify(id.slice(0, 20))}`,
          ).toBe(true);
        }
      }
    });

    it("accepts an id of exactly MAX_ID_BYTES bytes, incompressible, and keeps it apart from its neighbours", async () => {
      const type = uniqueTypeName();
      const alphabet = [..."abcdefghijklmnopqrstuvwxyzäöüßéñ日本語中文한국어🎉🚀"];
      let id = "";
      while (Buffer.byteLength(id, "utf8") < MAX_ID_BYTES - 4) {
        id += alphabet[Math.floor(Math.random() * alphabet.length)];
      }
      id += "z".repeat(MAX_ID_BYTES - Buffer.byteLength(id, "utf8"));
      expect(Buffer.byteLength(id, "utf8")).toBe(MAX_ID_BYTES);
      await store.save(type, id, { seqNo: 1, bytes: bytes(1) });
      await store.save(type, `${id.slice(0, -1)}y`, { seqNo: 2, bytes: bytes(2) });
      expect((await store.load(type, id))?.seqNo).toBe(1);
      expect((await store.load(type, `${id.slice(0, -1)}y`))?.seqNo).toBe(2);
    });

    it("stores the version with the snapshot, and no version when none was given", async () => {
      const type = uniqueTypeName();
      await store.save(type, "v", { seqNo: 1, bytes: bytes(1), version: "counter-state/2" });
      expect(await store.load(type, "v")).toMatchObject({ seqNo: 1, version: "counter-state/2" });
      await store.save(type, "none", { seqNo: 1, bytes: bytes(1) });
      expect((await store.load(type, "none"))?.version).toBeUndefined();
    });

    it("stores a large state", async () => {
      const type = uniqueTypeName();
      const big = new Uint8Array(256 * 1024).map((_, i) => i % 251);
      await store.save(type, "big", { seqNo: 1, bytes: big });
      expect(Buffer.from((await store.load(type, "big"))!.bytes).equals(Buffer.from(big))).toBe(true);
    });

    if (options.history ?? true) describeHistoryCases(factory);
  });
}

function describeHistoryCases(
  factory: (options: SnapshotStoreFactoryOptions) => Promise<ContractSubject<SnapshotStore>>,
): void {
  describe("with a history of 3 snapshots per entity", () => {
    let store: SnapshotStore;
    let cleanup: (() => Promise<void>) | undefined;
    beforeAll(async () => {
      const made = await factory({ history: 3 });
      store = made.subject;
      cleanup = made.cleanup;
    });
    afterAll(async () => {
      await cleanup?.();
    });
    const loadAll = (type: string, id: string) => {
      if (store.loadAll === undefined) throw new Error("the store has no loadAll");
      return store.loadAll(type, id);
    };

    it("reports the history it keeps", () => {
      expect(store.history).toBe(3);
    });

    it("keeps the newest 3 snapshots, newest first, each with its bytes and version", async () => {
      const type = uniqueTypeName();
      for (let seqNo = 1; seqNo <= 5; seqNo++) {
        await store.save(type, "h", { seqNo: seqNo * 10, bytes: bytes(seqNo), version: `v${seqNo}` });
      }
      const all = await loadAll(type, "h");
      expect(all.map((s) => [s.seqNo, Array.from(s.bytes), s.version])).toEqual([
        [50, [5], "v5"],
        [40, [4], "v4"],
        [30, [3], "v3"],
      ]);
      expect((await store.load(type, "h"))?.seqNo).toBe(50);
      expect(await loadAll(type, "nobody")).toEqual([]);
    });

    it("does not add a snapshot older than the newest to the history", async () => {
      const type = uniqueTypeName();
      await store.save(type, "h", { seqNo: 10, bytes: bytes(10) });
      await store.save(type, "h", { seqNo: 3, bytes: bytes(3) });
      expect((await loadAll(type, "h")).map((s) => s.seqNo)).toEqual([10]);
    });

    it("keeps the highest seqNo as the latest when saves race", async () => {
      const type = uniqueTypeName();
      await Promise.all(
        [4, 9, 2, 7].map((seqNo) => store.save(type, "race", { seqNo, bytes: bytes(seqNo) })),
      );
      expect((await store.load(type, "race"))?.seqNo).toBe(9);
      const all = await loadAll(type, "race");
      expect(all[0]?.seqNo).toBe(9);
      expect(all.length).toBeLessThanOrEqual(3);
    });

    it("deleteAll removes every snapshot of that entity, and only of it", async () => {
      const type = uniqueTypeName();
      for (const seqNo of [1, 2]) {
        await store.save(type, "gone", { seqNo, bytes: bytes(seqNo) });
        await store.save(type, "kept", { seqNo, bytes: bytes(seqNo) });
      }
      if (store.deleteAll === undefined) throw new Error("the store has no deleteAll");
      await store.deleteAll(type, "gone");
      expect(await store.load(type, "gone")).toBeUndefined();
      expect(await loadAll(type, "gone")).toEqual([]);
      expect((await loadAll(type, "kept")).map((s) => s.seqNo)).toEqual([2, 1]);
      await store.save(type, "gone", { seqNo: 7, bytes: bytes(7) });
      expect((await store.load(type, "gone"))?.seqNo).toBe(7);
    });
  });
}
