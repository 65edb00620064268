/** An element of a parsed XML document. */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text content, entities decoded. */
  readonly text: string;
}

const NAME = /^[A-Za-z_:][-A-Za-z0-9_:.]*/;
const ENTITY = /^&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/;
const DECODE: Readonly<Record<string, string>> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/**
 * A small, strict XML well-formedness parser, enough to validate the SVG the chart renders without adding
 * a parser dependency: one root element, matched and properly nested tags, quoted and unique attributes,
 * no raw `<` or stray `&` in text or attribute values. Throws with the offset of the first violation.
 */
export function parseXml(source: string): XmlElement {
  let pos = 0;
  const fail = (why: string): never => {
    throw new Error(
      `not well-formed XML at offset ${pos}: ${why} (near ${JSON.stringify(source.slice(pos, pos + 30))})`,
    );
  };
  const skipMisc = () => {
    for (;;) {
      const ws = /^\s*/.exec(source.slice(pos))![0];
      pos += ws.length;
      if (source.startsWith("<?", pos)) {
        const end = source.indexOf("?>", pos);
        if (end < 0) fail("unterminated processing instruction");
        pos = end + 2;
      } else if (source.startsWith("<!--", pos)) {
        const end = source.indexOf("-->", pos);
        if (end < 0) fail("unterminated comment");
        pos = end + 3;
      } else return;
    }
  };
  const decode = (raw: string): string => {
    let out = "";
    for (let i = 0; i < raw.length; i++) {
      const char = raw[i]!;
      if (char === "<") {
        pos += i;
        fail("raw '<' in text or attribute");
      }
      if (char !== "&") {
        out += char;
        continue;
      }
      const match = ENTITY.exec(raw.slice(i));
      if (!match) {
        pos += i;
        fail("'&' that does not start an entity");
      }
      const body = match![0].slice(1, -1);
      out += body.startsWith("#x")
        ? String.fromCodePoint(Number.parseInt(body.slice(2), 16))
        : body.startsWith("#")
          ? String.fromCodePoint(Number(body.slice(1)))
          : DECODE[body]!;
      i += match![0].length - 1;
    }
    return out;
  };

  const parseElement = (): XmlElement => {
    if (source[pos] !== "<") fail("expected '<'");
    pos++;
    const name = NAME.exec(source.slice(pos))?.[0] ?? fail("expected an element name");
    pos += name.length;
    const attributes: Record<string, string> = {};
    for (;;) {
      const ws = /^\s*/.exec(source.slice(pos))![0];
      pos += ws.length;
      if (source.startsWith("/>", pos)) {
        pos += 2;
        return { name, attributes, children: [], text: "" };
      }
      if (source[pos] === ">") {
        pos++;
        break;
      }
      if (ws.length === 0) fail("expected whitespace before an attribute");
      const attr = NAME.exec(source.slice(pos))?.[0] ?? fail("expected an attribute name");
      pos += attr.length;
      const eq = /^\s*=\s*/.exec(source.slice(pos))?.[0] ?? fail(`expected '=' after attribute ${attr}`);
      pos += eq.length;
      const quote = source[pos];
      if (quote !== '"' && quote !== "'") fail(`attribute ${attr} is not quoted`);
      const end = source.indexOf(quote!, pos + 1);
      if (end < 0) fail(`unterminated value of attribute ${attr}`);
      if (attr in attributes) fail(`duplicate attribute ${attr}`);
      const start = pos + 1;
      const raw = source.slice(start, end);
      const saved = pos;
      pos = start;
      attributes[attr] = decode(raw);
      pos = saved;
      pos = end + 1;
    }

    const children: XmlElement[] = [];
    let text = "";
    for (;;) {
      if (pos >= source.length) fail(`unclosed element <${name}>`);
      if (source.startsWith("</", pos)) {
        pos += 2;
        const closing = NAME.exec(source.slice(pos))?.[0];
        if (closing !== name) fail(`</${closing}> closes <${name}>`);
        pos += name.length;
        const tail = /^\s*>/.exec(source.slice(pos))?.[0] ?? fail("expected '>'");
        pos += tail.length;
        return { name, attributes, children, text };
      }
      if (source.startsWith("<!--", pos)) {
        const end = source.indexOf("-->", pos);
        if (end < 0) fail("unterminated comment");
        pos = end + 3;
      } else if (source[pos] === "<") {
        children.push(parseElement());
      } else {
        const next = source.indexOf("<", pos);
        const end = next < 0 ? source.length : next;
        const start = pos;
        text += decode(source.slice(start, end));
        pos = end;
      }
    }
  };

  skipMisc();
  const root = parseElement();
  skipMisc();
  if (pos !== source.length) fail("content after the root element");
  return root;
}

/** Every element named `name` in the tree, depth first. */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const visit = (element: XmlElement) => {
    if (element.name === name) found.push(element);
    for (const child of element.children) visit(child);
  };
  visit(root);
  return found;
}

/** All text in the tree, element texts joined by newlines. */
export function allText(root: XmlElement): string {
  return [root.text, ...root.children.map(allText)].filter(Boolean).join("\n");
}
