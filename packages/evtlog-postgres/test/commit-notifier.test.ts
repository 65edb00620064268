import { silentLogger } from "@eventsourced/core";
import {
  AppendSignal,
  CommitNotifier,
  ListenerPresence,
  NotificationListener,
  notifiedTypes,
} from "@eventsourced/evtlog-postgres/internal";
import { describe, expect, it } from "vitest";
import { testPool } from "./pg-test-database.js";

/** A pool that records the NOTIFY payloads and answers each query when the test lets it. */
function gatedPool() {
  const sent: string[] = [];
  const waiting: (() => void)[] = [];
  return {
    sent,
    release: () => waiting.shift()?.(),
    get inFlight() {
      return waiting.length;
    },
    pool: {
      query(_text: string, values?: unknown[]) {
        sent.push(String(values?.[1]));
        return new Promise((resolve) => waiting.push(() => resolve({ rows: [], rowCount: 1 })));
      },
      connect: () => Promise.reject(new Error("not used")),
    },
  };
}

describe("CommitNotifier", () => {
  it("sends at once, keeps one NOTIFY in flight and merges the types committed meanwhile into the next", async () => {
    const gate = gatedPool();
    const notifier = new CommitNotifier(gate.pool as never, "chan", "t1", silentLogger);
    notifier.notify(new Set(["a"]));
    expect(gate.sent).toEqual(["@t1 a"]);
    notifier.notify(new Set(["b"]));
    notifier.notify(new Set(["c", "b"]));
    expect(gate.inFlight).toBe(1);
    gate.release();
    // The next goes as soon as the first returned, with both types once.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(gate.sent).toEqual(["@t1 a", "@t1 b c"]);
    const closing = notifier.close();
    gate.release();
    await closing;
    expect(gate.inFlight).toBe(0);
  });

  it("sends '*' when the types would not fit in a payload, and survives a failed send", async () => {
    let calls = 0;
    const payloads: string[] = [];
    const pool = {
      query(_text: string, values?: unknown[]) {
        calls++;
        payloads.push(String(values?.[1]));
        return calls === 1 ? Promise.reject(new Error("down")) : Promise.resolve({ rows: [], rowCount: 1 });
      },
      connect: () => Promise.reject(new Error("not used")),
    };
    const notifier = new CommitNotifier(pool as never, "chan", "t1", silentLogger);
    notifier.notify(new Set(["first"]));
    await notifier.close();
    notifier.notify(new Set(Array.from({ length: 2000 }, (_, i) => `type-${i}`)));
    await notifier.close();
    expect(payloads).toEqual(["@t1 first", "@t1 *"]);
  });

  it("reaches a LISTENing connection on the server, outside any writing transaction", async () => {
    const pool = await testPool(2);
    const listener = await pool.connect();
    try {
      const channel = `notifier_${Date.now().toString(36)}`;
      const received = new Promise<string | undefined>((resolve) =>
        listener.on("notification", (m) => resolve(m.payload)),
      );
      await listener.query(`LISTEN "${channel}"`);
      const notifier = new CommitNotifier(pool, channel, "t1", silentLogger);
      notifier.notify(new Set(["x", "y"]));
      await notifier.close();
      expect(await received).toBe("@t1 x y");
    } finally {
      listener.release();
      await pool.end();
    }
  });

  it("reads the types of a payload, of earlier versions' untagged payloads too, and skips its own", () => {
    expect(notifiedTypes("@other a b", "me")).toEqual(["a", "b"]);
    expect(notifiedTypes("@other *", "me")).toEqual(["*"]);
    expect(notifiedTypes("@other", "me")).toEqual(["*"]);
    expect(notifiedTypes("a b", "me")).toEqual(["a", "b"]);
    expect(notifiedTypes("", "me")).toEqual(["*"]);
    expect(notifiedTypes("@me a b", "me")).toBeUndefined();
  });

  it("wakes readers on another log's notifications but not on its own log's (its readers were woken at commit)", async () => {
    const pool = await testPool(3);
    const channel = `notifier_own_${Date.now().toString(36)}`;
    const signal = new AppendSignal();
    const listener = new NotificationListener(pool, channel, "me", signal, silentLogger, 30_000);
    try {
      await listener.ensure();
      const own = new CommitNotifier(pool, channel, "me", silentLogger);
      const other = new CommitNotifier(pool, channel, "other", silentLogger);
      own.notify(new Set(["a"]));
      await own.close();
      const woken = signal.wait("b", 10_000, []);
      other.notify(new Set(["b"]));
      await other.close();
      await woken;
      // Notifications arrive in the order sent: had "a" woken anyone, the version would be 2.
      expect(signal.version).toBe(1);
    } finally {
      await listener.close();
      await pool.end();
    }
  });

  it("sends nothing while no other log instance listens, and notifies once one does", async () => {
    const pool = await testPool(4);
    const channel = `notifier_presence_${Date.now().toString(36)}`;
    const raw = await pool.connect();
    const received: string[] = [];
    const own = new NotificationListener(pool, channel, "me", new AppendSignal(), silentLogger, 30_000);
    const other = new NotificationListener(pool, channel, "other", new AppendSignal(), silentLogger, 30_000);
    try {
      // A plain LISTEN (not a log instance) sees what is sent.
      raw.on("notification", (m) => received.push(m.payload ?? ""));
      await raw.query(`LISTEN "${channel}"`);
      const presence = new ListenerPresence(pool, channel, "me", silentLogger);
      const notifier = new CommitNotifier(pool, channel, "me", silentLogger, presence);
      // Only this instance's own listener: nobody else to wake.
      await own.ensure();
      await presence.refresh();
      expect(presence.othersMayListen).toBe(false);
      notifier.notify(new Set(["unheard"]));
      await notifier.close();
      // Another instance listens (its LISTEN connection is named for it): notified again.
      await other.ensure();
      await presence.refresh();
      expect(presence.othersMayListen).toBe(true);
      notifier.notify(new Set(["heard"]));
      await notifier.close();
      const deadline = Date.now() + 5_000;
      while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(received).toEqual(["@me heard"]);
    } finally {
      await own.close();
      await other.close();
      raw.release();
      await pool.end();
    }
  });
});
