import { headers, MsgHdrsImpl } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { Header } from "../src/envelope.js";
import { setFenceHeaders } from "../src/epoch-marker.js";
import { PersistHeaders } from "../src/persist-headers.js";

/** The headers a persist sets, in its order, on any `MsgHdrs`. */
function setPersistHeaders(hdrs: MsgHdrsImpl | PersistHeaders, fenced: boolean): void {
  hdrs.set(Header.FirstSeq, "42");
  hdrs.set(Header.Count, "3");
  if (fenced) setFenceHeaders(hdrs, { epoch: 7, owner: "node-a 1234 (host)" });
  hdrs.set("Nats-Msg-Id", "Zq3VbCqfRkXEcLkD0kUQ8n");
  hdrs.set("Nats-Expected-Last-Subject-Sequence", "1001");
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("PersistHeaders", () => {
  it.each([false, true])("writes the bytes nats.js writes for a persist's headers (fenced: %s)", (fenced) => {
    const ours = new PersistHeaders();
    const theirs = headers() as MsgHdrsImpl;
    setPersistHeaders(ours, fenced);
    setPersistHeaders(theirs, fenced);
    expect(text(ours.encode())).toBe(text(theirs.encode()));
    expect(ours.toString()).toBe(theirs.toString());
    // What the server (and nats.js reading the message back) sees.
    const decoded = MsgHdrsImpl.decode(ours.encode());
    expect(decoded.get(Header.FirstSeq)).toBe("42");
    expect(decoded.get(Header.Epoch)).toBe(fenced ? "7" : "");
    expect(decoded.get(Header.Owner)).toBe(fenced ? "node-a 1234 (host)" : "");
  });

  it("behaves as nats.js's headers for set, append, get, last, values, has, keys and delete", () => {
    const ours = new PersistHeaders();
    const theirs = headers() as MsgHdrsImpl;
    for (const hdrs of [ours, theirs]) {
      hdrs.set("A", "1");
      hdrs.append("B", "2");
      hdrs.append("A", "3");
      hdrs.append("C", "4");
      hdrs.set("C", "5");
    }
    for (const k of ["A", "B", "C", "D"]) {
      expect([ours.get(k), ours.last(k), ours.values(k), ours.has(k)]).toEqual([
        theirs.get(k),
        theirs.last(k),
        theirs.values(k),
        theirs.has(k),
      ]);
    }
    expect(ours.keys()).toEqual(theirs.keys());
    expect([...ours]).toEqual([...theirs]);
    // A key with two values is grouped, as nats.js writes it.
    expect(text(ours.encode())).toBe(text(theirs.encode()));
    ours.delete("A");
    theirs.delete("A");
    expect(text(ours.encode())).toBe(text(theirs.encode()));
    expect(new PersistHeaders().encode()).toHaveLength(0);
  });
});
