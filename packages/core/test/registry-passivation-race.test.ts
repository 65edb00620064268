import { EntityRegistry } from "@eventsourced/core";
import { InMemoryEvtLog, InMemorySnapshotStore } from "@eventsourced/core/testing";
import { describe, expect, it } from "vitest";
import { appended, appender, seededRandom } from "./registry-fixtures.js";

const ITERATIONS = 10_000;
const IDS = ["r0", "r1", "r2", "r3"];

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Lets a background caller pause for a few turns of the event loop, so that the loop dominates. */
async function pause(random: () => number): Promise<void> {
  const turns = 1 + Math.floor(random() * 12);
  for (let i = 0; i < turns; i++) await nextTurn();
}

/** Yields to the event loop a random number of times, some as microtasks, some as macrotasks. */
async function jitter(random: () => number): Promise<void> {
  const turns = Math.floor(random() * 4);
  for (let i = 0; i < turns; i++) {
    if (random() < 0.5) await Promise.resolve();
    else await nextTurn();
  }
}

describe("EntityRegistry: sends racing passivation", () => {
  it("10,000 send-while-passivating iterations: every command handled exactly once, in order per caller, none lost", async () => {
    const seed = Number(process.env.REGISTRY_RACE_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    const evtLog = new InMemoryEvtLog();
    // Snapshots keep each re-activation short; they also race the stops.
    const registry = new EntityRegistry(appender, {
      evtLog,
      snapshotStore: new InMemorySnapshotStore(),
      snapshotOnPassivate: true,
    });
    const acked = new Map<string, { id: string; seqNo: number }>();
    const sent = new Map<string, string[]>();
    const callerNames: string[] = [];
    const send = (caller: string, id: string, n: number): Promise<void> => {
      const tag = `${caller}/${n}`;
      const key = `${caller}@${id}`;
      const tags = sent.get(key) ?? [];
      sent.set(key, tags);
      tags.push(tag);
      return registry.send(id, { tag, parts: 1 + (n % 2) }).then((result) => {
        acked.set(tag, { id, seqNo: result.seqNo });
      });
    };

    // The loop: each iteration a command and a passivation of the same id, started in random order and
    // separated by random turns of the event loop; half the time the next iteration waits for the stop.
    const loop = (async () => {
      for (let i = 0; i < ITERATIONS; i++) {
        const id = IDS[i % IDS.length]!;
        const command = (async () => {
          await jitter(random);
          await send("loop", id, i);
        })();
        const passivation = (async () => {
          await jitter(random);
          await registry.passivate(id);
        })();
        if (random() < 0.5) await Promise.all([command, passivation]);
        else await command;
      }
    })();
    // Beside it, callers that send sequentially and callers that pipeline bursts without awaiting.
    let done = false;
    const sequential = IDS.map(async (id, c) => {
      const caller = `seq${c}`;
      callerNames.push(caller);
      // Pausing also yields macrotasks: an in-memory send completes in microtasks alone.
      for (let n = 0; !done; n++) {
        await send(caller, id, n);
        await pause(random);
      }
    });
    const pipelined = IDS.map(async (id, c) => {
      const caller = `pipe${c}`;
      callerNames.push(caller);
      for (let n = 0; !done; n += 3) {
        await Promise.all([0, 1, 2].map((k) => send(caller, id, n + k)));
        await pause(random);
      }
    });
    await loop;
    done = true;
    await Promise.all([...sequential, ...pipelined]);
    await registry.close();

    const context = `seed ${seed} (rerun with REGISTRY_RACE_SEED=${seed})`;
    expect(registry.stats.passivations.explicit, context).toBeGreaterThan(ITERATIONS / 2);
    let stored = 0;
    for (const id of IDS) {
      const evts = await appended(evtLog, id);
      stored += new Set(evts.map((e) => e.tag)).size;
      // Each command's events are stored once, adjacent, in part order, at the seqNo it was acknowledged with.
      const byTag = new Map<string, typeof evts>();
      for (const evt of evts) byTag.set(evt.tag, [...(byTag.get(evt.tag) ?? []), evt]);
      for (const [tag, parts] of byTag) {
        expect(
          parts.map((p) => p.part),
          `${tag}, ${context}`,
        ).toEqual(parts.map((_, k) => k));
        expect(parts.at(-1)!.seqNo - parts[0]!.seqNo, `${tag}, ${context}`).toBe(parts.length - 1);
        expect(acked.get(tag), `${tag} acknowledged, ${context}`).toEqual({ id, seqNo: parts.at(-1)!.seqNo });
      }
      // Per caller, the log holds its commands in the order they were sent.
      for (const caller of ["loop", ...callerNames]) {
        const order = [...byTag.keys()].filter((tag) => tag.startsWith(`${caller}/`));
        expect(order, `${caller}@${id}, ${context}`).toEqual(sent.get(`${caller}@${id}`) ?? []);
      }
    }
    // None lost: every command sent was acknowledged and stored.
    const sentCount = [...sent.values()].reduce((n, tags) => n + tags.length, 0);
    expect(acked.size, context).toBe(sentCount);
    expect(stored, context).toBe(sentCount);
  }, 120_000);
});
