/**
 * Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` in a Markdown document, keeping
 * the markers, so that generated figures can live inside a hand-written page. Returns the text unchanged
 * when the markers are absent or out of order.
 *
 * @example
 * replaceMarkedBlock(readme, "bench-headline", headlineMarkdown(report));
 */
export function replaceMarkedBlock(text: string, name: string, content: string): string {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const from = text.indexOf(start);
  const to = text.indexOf(end, from + start.length);
  if (from < 0 || to < 0) return text;
  return `${text.slice(0, from + start.length)}\n${content.trim()}\n${text.slice(to)}`;
}
