import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeReply, decodeRequest, encodeReply, encodeRequest } from "../src/envelope.js";
import {
  decodeJsonRequest,
  decodeJsonResult,
  encodeJsonRequest,
  encodeJsonResult,
  JSON_REQUEST,
  JSON_RESULT,
} from "../src/json-envelope.js";

const ids = fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 });

describe("The routing envelope", () => {
  it("carries any id, command id, timeout and command through the JSON form (bigints included)", () => {
    fc.assert(
      fc.property(ids, ids, fc.nat(), fc.jsonValue(), fc.bigInt(), (id, key, timeoutMs, json, big) => {
        const cmd = { json, big };
        const bytes = encodeJsonRequest(id, key, timeoutMs, cmd);
        expect(bytes[0]).toBe(JSON_REQUEST);
        const decoded = decodeJsonRequest(bytes);
        expect([decoded.id, decoded.commandId, decoded.timeoutMs]).toEqual([id, key, timeoutMs]);
        expect(decoded.value).toEqual({ json: JSON.parse(JSON.stringify(json)), big });
      }),
    );
  });

  it("carries any id and command id through the binary form of other codecs", () => {
    fc.assert(
      fc.property(ids, ids, fc.nat(), fc.uint8Array(), (id, key, timeoutMs, cmd) => {
        const decoded = decodeRequest(encodeRequest(id, key, timeoutMs, cmd));
        expect(decoded.id).toBe(id);
        expect(decoded.commandId).toBe(key);
        expect(decoded.timeoutMs).toBe(timeoutMs);
        expect([...decoded.cmd]).toEqual([...cmd]);
      }),
    );
  });

  it("encodes every reply kind and a JSON result", () => {
    const failure = { code: "X", message: "m", outcomeUnknown: true, retryable: false };
    expect(decodeReply(encodeReply({ kind: "not-owner" }))).toEqual({ kind: "not-owner" });
    expect(decodeReply(encodeReply({ kind: "overloaded", inFlight: 7 }))).toEqual({
      kind: "overloaded",
      inFlight: 7,
    });
    expect(decodeReply(encodeReply({ kind: "error", failure }))).toEqual({ kind: "error", failure });
    const result = { kind: "accepted", reply: 10n, seqNo: 3 };
    const bytes = encodeJsonResult(result);
    expect(bytes[0]).toBe(JSON_RESULT);
    expect(decodeJsonResult(bytes)).toEqual(result);
  });

  it("refuses bytes that are not a request", () => {
    expect(() => decodeRequest(Uint8Array.of(9, 9))).toThrow(/not a cluster request/);
    expect(() => decodeJsonRequest(Uint8Array.of(JSON_REQUEST, 0x41))).toThrow(/not a cluster request/);
  });
});
