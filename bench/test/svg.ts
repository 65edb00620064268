import { XMLParser, XMLValidator } from "fast-xml-parser";

/** An element of a parsed XML document. */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  /** The element's own text content, entities decoded. */
  readonly text: string;
}

type Node = { readonly ":@"?: Record<string, string> } & Record<string, Node[] | string>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
});

/** Checks that `source` is well-formed XML with one root element, and returns that element. */
export function parseXml(source: string): XmlElement {
  const valid = XMLValidator.validate(source);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const roots = (parser.parse(source) as Node[]).filter((node) => !("#text" in node)).map(toElement);
  if (roots.length !== 1) throw new Error(`not well-formed XML: ${roots.length} root elements`);
  return roots[0]!;
}

function toElement(node: Node): XmlElement {
  const name = Object.keys(node).find((key) => key !== ":@")!;
  const content = node[name] as Node[];
  return {
    name,
    attributes: node[":@"] ?? {},
    children: content.filter((child) => !("#text" in child)).map(toElement),
    text: content.map((child) => child["#text"] ?? "").join(""),
  };
}

/** Every element named `name` in the tree, depth first. */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  return [...(root.name === name ? [root] : []), ...root.children.flatMap((child) => findAll(child, name))];
}

/** All text in the tree, element texts joined by newlines. */
export function allText(root: XmlElement): string {
  return [root.text, ...root.children.map(allText)].filter(Boolean).join("\n");
}
