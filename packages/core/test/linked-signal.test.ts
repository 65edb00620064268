import { getEventListeners } from "node:events";
import { linkSignals } from "@eventsourced/core";
import { describe, expect, it } from "vitest";

/** How many signals `signal` tracks as dependants (Node internals; what `AbortSignal.any` leaves on Node 20). */
function dependantsOf(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((s) => s.description === "kDependantSignals");
  const set =
    key === undefined ? undefined : (signal as unknown as Record<symbol, Set<unknown> | undefined>)[key];
  return set?.size ?? 0;
}

describe("linkSignals", () => {
  it("aborts with the reason of the first linked signal that aborts", () => {
    const a = new AbortController();
    const b = new AbortController();
    const linked = linkSignals([a.signal, undefined, b.signal]);
    expect(linked.signal.aborted).toBe(false);
    const reason = new Error("b went");
    b.abort(reason);
    a.abort(new Error("a went later"));
    expect(linked.signal.aborted).toBe(true);
    expect(linked.signal.reason).toBe(reason);
  });

  it("is aborted at once when a linked signal already is; one signal is returned as it is", () => {
    const reason = new Error("gone");
    expect(linkSignals([new AbortController().signal, AbortSignal.abort(reason)]).signal.reason).toBe(reason);
    const only = new AbortController().signal;
    expect(linkSignals([only, undefined]).signal).toBe(only);
  });

  it("leaves nothing on a long-lived signal once disposed, however often it is linked", () => {
    const shutdown = new AbortController();
    for (let i = 0; i < 1_000; i++) {
      const linked = linkSignals([shutdown.signal, new AbortController().signal]);
      linked.dispose();
    }
    expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0);
    expect(dependantsOf(shutdown.signal)).toBe(0);
  });

  it("shares one listener on a signal however many links are live at once (no listener-leak warning)", async () => {
    const shutdown = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const links = Array.from({ length: 50 }, () =>
        linkSignals([shutdown.signal, new AbortController().signal]),
      );
      expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(1);
      const reason = new Error("shutting down");
      shutdown.abort(reason);
      for (const linked of links) expect(linked.signal.reason).toBe(reason);
      for (const linked of links) linked.dispose();
      expect(getEventListeners(shutdown.signal, "abort")).toHaveLength(0);
      await new Promise((resolve) => setImmediate(resolve)); // Node emits warnings on a later tick
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  });

  it("detaches from every source once one of them aborted", () => {
    const a = new AbortController();
    const b = new AbortController();
    linkSignals([a.signal, b.signal]);
    a.abort(new Error("a went"));
    expect(getEventListeners(b.signal, "abort")).toHaveLength(0);
  });
});
