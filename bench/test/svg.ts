import { XMLParser, XMLValidator } from "fast-xml-parser";

/** A parsed element as fast-xml-parser gives it: attributes and `#text` as strings, child elements by name. */
export type XmlNode = { readonly [key: string]: string | XmlNode[] };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "",
  alwaysCreateTextNode: true,
  parseTagValue: false,
  isArray: (_name, _path, _leaf, isAttribute) => !isAttribute,
});

/** Checks that `source` is well-formed XML and returns the document node, whose one child is the root element. */
export function parseXml(source: string): XmlNode {
  const valid = XMLValidator.validate(source);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  return parser.parse(source) as XmlNode;
}

/** Every element named `name` in the tree, depth first. */
export function findAll(node: XmlNode, name: string): XmlNode[] {
  return Object.entries(node).flatMap(([key, value]) =>
    Array.isArray(value) ? [...(key === name ? value : []), ...value.flatMap((v) => findAll(v, name))] : [],
  );
}

/** All text in the tree, element texts joined by newlines. */
export function allText(node: XmlNode): string {
  const nested = Object.values(node).flatMap((value) =>
    typeof value === "string" ? [] : value.map(allText),
  );
  return [node["#text"], ...nested].filter(Boolean).join("\n");
}
