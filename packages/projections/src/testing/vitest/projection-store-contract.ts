import { isEventSourcedError } from "@eventsourced/core";
import { describe, expect, it } from "vitest";
import type { DeadLetter, ProjectionStore } from "../../projection-store.js";

/** A fresh store for each test, and how to dispose of it. */
export interface ProjectionStoreFixture {
  readonly store: ProjectionStore;
  /** Disposes of the store's resources after the test. */
  close?(): Promise<void>;
}

let counter = 0;
function uniqueName(): string {
  return `p${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

function letter(projection: string, position: number, attempts = 1): DeadLetter {
  return {
    projection,
    position,
    type: "account",
    id: `id-${position}`,
    seqNo: position,
    recordedAt: new Date("2026-01-02T03:04:05.678Z"),
    contentType: "application/json",
    metadata: { correlationId: "c-1" },
    bytes: new Uint8Array([0, 1, 2, 255]),
    error: "Error: poison",
    attempts,
  };
}

async function fenced(promise: Promise<unknown>): Promise<boolean> {
  return promise.then(
    () => false,
    (err: unknown) => isEventSourcedError(err, "PROJECTION_FENCED"),
  );
}

/**
 * The behaviour every {@link ProjectionStore} must show, run unchanged against the in-memory, PostgreSQL and
 * NATS KV stores: claims by epoch, compare-and-set saves, dead letters beside the checkpoint, status, reset.
 */
export function describeProjectionStoreContract(
  label: string,
  create: () => Promise<ProjectionStoreFixture>,
): void {
  describe(`ProjectionStore contract: ${label}`, () => {
    async function withStore(test: (store: ProjectionStore) => Promise<void>): Promise<void> {
      const fixture = await create();
      try {
        await test(fixture.store);
      } finally {
        await fixture.close?.();
      }
    }

    it("creates a running checkpoint at position 0 on the first claim, and returns it as stored afterwards", () =>
      withStore(async (store) => {
        const name = uniqueName();
        expect(await store.load(name)).toBeUndefined();
        expect(await store.claim(name, "account", 3)).toMatchObject({
          name,
          type: "account",
          position: 0,
          epoch: 3,
          status: "running",
        });
        expect(await store.load(name)).toMatchObject({ position: 0, epoch: 3, status: "running" });
      }));

    it("refuses a claim under an older epoch than the stored one", () =>
      withStore(async (store) => {
        const name = uniqueName();
        await store.claim(name, "account", 5);
        expect(await fenced(store.claim(name, "account", 4))).toBe(true);
        expect((await store.claim(name, "account", 6)).epoch).toBe(6);
      }));

    it("refuses a claim of the same name for another entity type", () =>
      withStore(async (store) => {
        const name = uniqueName();
        await store.claim(name, "account", 0);
        await expect(store.claim(name, "order", 0)).rejects.toMatchObject({ code: "CONFIGURATION_INVALID" });
      }));

    it("saves by compare-and-set on position and epoch, with the last event's time", () =>
      withStore(async (store) => {
        const name = uniqueName();
        await store.claim(name, "account", 1);
        const at = new Date("2026-05-06T07:08:09.123Z");
        await store.save({ name, epoch: 1, position: 0 }, { position: 10, lastEventAt: at, deadLetters: [] });
        expect(await store.load(name)).toMatchObject({ position: 10, lastEventAt: at });
        await store.save(
          { name, epoch: 1, position: 10 },
          { position: 12, lastEventAt: undefined, deadLetters: [] },
        );
        expect(await store.load(name)).toMatchObject({ position: 12, lastEventAt: at });
        const wrongPosition = store.save(
          { name, epoch: 1, position: 10 },
          { position: 20, lastEventAt: at, deadLetters: [] },
        );
        expect(await fenced(wrongPosition)).toBe(true);
        const wrongEpoch = store.save(
          { name, epoch: 2, position: 12 },
          { position: 20, lastEventAt: at, deadLetters: [] },
        );
        expect(await fenced(wrongEpoch)).toBe(true);
        expect((await store.load(name))?.position).toBe(12);
      }));

    it("fences the previous owner once a newer epoch claimed the checkpoint", () =>
      withStore(async (store) => {
        const name = uniqueName();
        await store.claim(name, "account", 1);
        await store.claim(name, "account", 2);
        const stale = store.save(
          { name, epoch: 1, position: 0 },
          { position: 5, lastEventAt: undefined, deadLetters: [] },
        );
        expect(await fenced(stale)).toBe(true);
        expect((await store.load(name))?.position).toBe(0);
      }));

    it("stores dead letters with the checkpoint, adds up attempts, lists them in position order, deletes one", () =>
      withStore(async (store) => {
        const name = uniqueName();
        await store.claim(name, "account", 0);
        await store.save(
          { name, epoch: 0, position: 0 },
          { position: 9, lastEventAt: undefined, deadLetters: [letter(name, 7, 3), letter(name, 4)] },
        );
        await store.save(
          { name, epoch: 0, position: 9 },
          { position: 9, lastEventAt: undefined, deadLetters: [letter(name, 7, 2)] },
        );
        const letters = await store.deadLetters(name);
        expect(letters.map((l) => [l.position, l.attempts])).toEqual([
          [4, 1],
          [7, 5],
        ]);
        const { failedAt, ...first } = letters[0]!;
        expect(failedAt).toBeInstanceOf(Date);
        expect(first).toEqual(letter(name, 4));
        expect(await store.deleteDeadLetter(name, 4)).toBe(true);
        expect(await store.deleteDeadLetter(name, 4)).toBe(false);
        expect((await store.deadLetters(name)).map((l) => l.position)).toEqual([7]);
        expect(await store.deadLetters(uniqueName())).toEqual([]);
      }));

    it("keeps the status across claims: paused, failed with its error, running again", () =>
      withStore(async (store) => {
        const name = uniqueName();
        await store.claim(name, "account", 0);
        await store.setStatus(name, "paused");
        expect((await store.claim(name, "account", 1)).status).toBe("paused");
        await store.setStatus(name, "failed", "PoisonEventError: at 7");
        expect(await store.load(name)).toMatchObject({ status: "failed", error: "PoisonEventError: at 7" });
        await store.setStatus(name, "running");
        const row = await store.load(name);
        expect(row?.status).toBe("running");
        expect(row?.error).toBeUndefined();
      }));

    it("resets the checkpoint, clearing the lag time and the dead letters after the new position", () =>
      withStore(async (store) => {
        const name = uniqueName();
        await store.claim(name, "account", 0);
        await store.save(
          { name, epoch: 0, position: 0 },
          { position: 30, lastEventAt: new Date(), deadLetters: [letter(name, 5), letter(name, 25)] },
        );
        await store.reset(name, 10);
        const row = await store.load(name);
        expect(row?.position).toBe(10);
        expect(row?.lastEventAt).toBeUndefined();
        expect((await store.deadLetters(name)).map((l) => l.position)).toEqual([5]);
      }));

    it("keeps operator requests in the row, oldest first, across saves and claims, until completed", () =>
      withStore(async (store) => {
        if (store.request === undefined || store.completeRequest === undefined) return;
        const name = uniqueName();
        expect(await store.request(name, { kind: "rebuild" })).toBeUndefined();
        await store.claim(name, "account", 0);
        const first = await store.request(name, { kind: "redrive", position: 5 });
        const second = await store.request(name, { kind: "rebuild" });
        expect(first).toMatchObject({ kind: "redrive", position: 5 });
        expect(first?.requestedAt).toBeInstanceOf(Date);
        await store.save(
          { name, epoch: 0, position: 0 },
          { position: 3, lastEventAt: undefined, deadLetters: [] },
        );
        await store.setStatus(name, "paused");
        const claimed = await store.claim(name, "account", 1);
        expect(claimed.requests?.map((r) => [r.id, r.kind])).toEqual([
          [first?.id, "redrive"],
          [second?.id, "rebuild"],
        ]);
        await store.completeRequest(name, first?.id ?? "");
        expect((await store.load(name))?.requests?.map((r) => r.id)).toEqual([second?.id]);
        await store.completeRequest(name, second?.id ?? "");
        expect((await store.load(name))?.requests).toBeUndefined();
        expect(await store.load(name)).toMatchObject({ position: 3, epoch: 1, status: "paused" });
      }));

    it("refuses an unknown status, a position that is not an integer >= 0 and a malformed request, changing nothing", () =>
      withStore(async (store) => {
        const name = uniqueName();
        await store.claim(name, "account", 0);
        const before = await store.load(name);
        const invalid = (promise: Promise<unknown>) =>
          promise.then(
            () => false,
            (err: unknown) => isEventSourcedError(err, "INVALID_ARGUMENT"),
          );
        expect(await invalid(store.setStatus(name, "bogus" as never))).toBe(true);
        expect(await invalid(store.reset(name, Number.NaN))).toBe(true);
        expect(await invalid(store.reset(name, -1))).toBe(true);
        expect(await invalid(store.deleteDeadLetter(name, 1.5))).toBe(true);
        if (store.request !== undefined) {
          expect(await invalid(store.request(name, { kind: "redrive" } as never))).toBe(true);
          expect(await invalid(store.request(name, { kind: "drop" } as never))).toBe(true);
        }
        expect(await store.load(name)).toEqual(before);
      }));
  });
}
