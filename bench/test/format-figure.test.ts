import { describe, expect, it } from "vitest";
import { formatFigure, formatRatio } from "../src/format-figure.js";

describe("formatFigure", () => {
  it.each([
    [123456.7, "123,457"],
    [100, "100"],
    [87.5, "87.5"],
    [50, "50.0"],
    [2.71, "2.71"],
    [0.01234, "0.0123"],
    [0, "0"],
    [-4.5, "-4.50"],
  ])("formats %d as %s", (value, text) => {
    expect(formatFigure(value)).toBe(text);
  });
});

describe("formatRatio", () => {
  it("shows two decimals below 10× and one above", () => {
    expect(formatRatio(0.834)).toBe("0.83×");
    expect(formatRatio(37.81)).toBe("37.8×");
  });
});
