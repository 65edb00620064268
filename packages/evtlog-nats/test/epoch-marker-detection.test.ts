import { Header } from "@eventsourced/evtlog-nats";
import { headers } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { isEpochMarker } from "../src/epoch-marker.js";

/** Reads skip epoch markers by their empty body first, so an event's headers are never parsed for it. */
describe("isEpochMarker", () => {
  const marker = headers();
  marker.set(Header.Marker, "7");

  it("is a message with an empty body and a marker header", () => {
    expect(isEpochMarker({ data: new Uint8Array(0), headers: marker })).toBe(true);
    expect(isEpochMarker({ data: new Uint8Array(0), headers: headers() })).toBe(false);
    expect(isEpochMarker({ data: new Uint8Array(0) })).toBe(false);
  });

  it("does not read the headers of a message with a body (an event, or a foreign message)", () => {
    const event = {
      data: new Uint8Array([1]),
      get headers(): never {
        throw new Error("an event's headers were parsed");
      },
    };
    expect(isEpochMarker(event)).toBe(false);
    // A non-empty message with a marker header is not a marker: the read decodes it (and reports it if foreign).
    expect(isEpochMarker({ data: new Uint8Array([1]), headers: marker })).toBe(false);
  });
});
