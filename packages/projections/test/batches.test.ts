import { describe, expect, it } from "vitest";
import { batches } from "../src/batches.js";

async function* slowly(items: number[], gapMs: number): AsyncGenerator<number> {
  for (const item of items) {
    yield item;
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("batches", () => {
  it("closes a batch at maxEvents", async () => {
    async function* fast() {
      yield* [1, 2, 3, 4, 5, 6, 7];
    }
    expect(await collect(batches(fast(), { maxEvents: 3, maxWaitMs: 1_000 }))).toEqual([
      [1, 2, 3],
      [4, 5, 6],
      [7],
    ]);
  });

  it("closes a batch maxWaitMs after its first item when the source is slow, losing nothing", async () => {
    const out = await collect(batches(slowly([1, 2, 3, 4], 30), { maxEvents: 100, maxWaitMs: 5 }));
    expect(out.flat()).toEqual([1, 2, 3, 4]);
    expect(out.length).toBeGreaterThan(1);
  });

  it("reads one batch ahead while the caller holds a full batch, and no further", async () => {
    let pulled = 0;
    async function* counted() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield i;
      }
    }
    const iterator = batches(counted(), { maxEvents: 10, maxWaitMs: 1_000 })[Symbol.asyncIterator]();
    await iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pulled).toBe(20);
    await iterator.return?.(undefined);
  });

  it("lets the next batch grow past maxWaitMs while the caller is busy, up to maxEvents", async () => {
    async function* steady() {
      for (let i = 0; i < 60; i++) {
        yield i;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    const sizes: number[] = [];
    for await (const batch of batches(steady(), { maxEvents: 1_000, maxWaitMs: 1 })) {
      sizes.push(batch.length);
      // A slow handler: meanwhile the next batch keeps collecting.
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(60);
    expect(Math.max(...sizes.slice(1))).toBeGreaterThan(5);
  });

  it("passes a source failure on after the items before it", async () => {
    async function* failing() {
      yield 1;
      throw new Error("boom");
    }
    const seen: number[][] = [];
    await expect(
      (async () => {
        for await (const batch of batches(failing(), { maxEvents: 10, maxWaitMs: 1 })) seen.push(batch);
      })(),
    ).rejects.toThrow("boom");
    expect(seen.flat()).toEqual([1]);
  });
});
