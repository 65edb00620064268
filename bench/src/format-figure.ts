/**
 * Formats a measured figure for people: whole numbers with thousands separators from 100 up, three
 * significant digits below, so that a table column of mixed magnitudes stays readable.
 *
 * @example
 * formatFigure(123456.7); // "123,457"
 * formatFigure(2.718); // "2.72"
 * formatFigure(0.01234); // "0.0123"
 */
export function formatFigure(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString("en-US");
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return "0";
  return Number(value.toPrecision(3)).toString();
}

/**
 * Formats a ratio as a multiplier, e.g. `0.87×`.
 *
 * @example
 * formatRatio(1.234); // "1.23×"
 */
export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return String(ratio);
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}×`;
}
