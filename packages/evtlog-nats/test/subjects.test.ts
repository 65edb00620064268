import { MAX_ID_BYTES } from "@eventsourced/core";
import { HOSTILE_IDS } from "@eventsourced/core/testing";
import { decodeIdToken, encodeIdToken, MAX_ENCODED_ID_LENGTH, Subjects } from "@eventsourced/evtlog-nats";
import { describe, expect, it } from "vitest";

const SAFE_TOKEN = /^[A-Za-z0-9_=-]+$/;

describe("entity id tokens", () => {
  it("keeps letters, digits, '_' and '-' as they are, so uuids stay readable", () => {
    expect(encodeIdToken("7f9c1d2e-aaaa-4bbb-8ccc-0123456789ab")).toBe(
      "7f9c1d2e-aaaa-4bbb-8ccc-0123456789ab",
    );
    expect(encodeIdToken("Order_42")).toBe("Order_42");
  });

  it("escapes every other character as =XX per UTF-8 byte", () => {
    expect(encodeIdToken("a.b")).toBe("a=2Eb");
    expect(encodeIdToken("*")).toBe("=2A");
    expect(encodeIdToken(">")).toBe("=3E");
    expect(encodeIdToken("with space")).toBe("with=20space");
    expect(encodeIdToken("=")).toBe("=3D");
    expect(encodeIdToken("é")).toBe("=C3=A9");
    expect(encodeIdToken("🎉")).toBe("=F0=9F=8E=89");
  });

  it("turns every hostile id into one safe token that decodes back to it", () => {
    for (const id of HOSTILE_IDS) {
      const token = encodeIdToken(id);
      expect(token).toMatch(SAFE_TOKEN);
      expect(decodeIdToken(token)).toBe(id);
    }
  });

  it("gives different ids different tokens", () => {
    const ids = [
      ...HOSTILE_IDS,
      "=2E",
      "=3D",
      "a=2Eb",
      "A",
      "ab",
      "\uFFFD",
      "\uD800",
      "\uDC00",
      "\uD800\uDC00",
    ];
    const tokens = ids.map(encodeIdToken);
    expect(new Set(tokens).size).toBe(ids.length);
    for (const [i, token] of tokens.entries()) expect(decodeIdToken(token)).toBe(ids[i]);
  });

  it("encodes lone surrogates distinctly from the replacement character", () => {
    expect(encodeIdToken("\uD800")).toBe("=uD800");
    expect(encodeIdToken("x\uDFFFy")).toBe("x=uDFFFy");
    expect(encodeIdToken("\uFFFD")).toBe("=EF=BF=BD");
  });

  it("refuses tokens it could not have produced, so a foreign subject never aliases an entity", () => {
    for (const token of ["=41", "a.b", "=2", "=zz", "=C3", "=uD800=uDC00", "*", ">", "a b", "=ud800"]) {
      expect(() => decodeIdToken(token), token).toThrow(/encoded entity id token/);
    }
  });
});

describe("Subjects", () => {
  const subjects = new Subjects("evts");

  it("builds <prefix>.<type>.<token> with exactly three tokens for any id", () => {
    expect(subjects.entity("counter", "a.b")).toBe("evts.counter.a=2Eb");
    for (const id of HOSTILE_IDS) expect(subjects.entity("counter", id).split(".")).toHaveLength(3);
  });

  it("filters a type with a single-token wildcard and maps a subject back to its id", () => {
    expect(subjects.byType("counter")).toBe("evts.counter.*");
    for (const id of HOSTILE_IDS) expect(subjects.idOf(subjects.entity("counter", id))).toBe(id);
  });

  it("supports multi-token prefixes", () => {
    const nested = new Subjects("app.evts");
    expect(nested.entity("t", "x")).toBe("app.evts.t.x");
    expect(nested.idOf("app.evts.t.a=2Eb")).toBe("a.b");
  });

  it("rejects invalid type names, empty ids and ids too long for a subject (the core id rules)", () => {
    expect(() => subjects.entity("bad.type", "x")).toThrow(/invalid entity type name/);
    expect(() => subjects.entity("*", "x")).toThrow(/invalid entity type name/);
    expect(() => subjects.entity("t", "")).toThrow(/invalid entity id/);
    expect(() => subjects.byType("a.>")).toThrow(/invalid entity type name/);
    // The longest id the core rules allow, of the characters that expand most, still fits a subject.
    const longest = "\u{10FFFF}".repeat(MAX_ID_BYTES / 4);
    expect(subjects.entity("t", longest).length).toBeLessThanOrEqual(MAX_ENCODED_ID_LENGTH + 20);
    expect(() => subjects.entity("t", ".".repeat(MAX_ID_BYTES))).not.toThrow();
    expect(() => subjects.entity("t", "x".repeat(MAX_ID_BYTES + 1))).toThrow(/at most 512/);
  });
});
