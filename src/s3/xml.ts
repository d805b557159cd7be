/**
 * XML in and out. Responses are built as strings by small typed builders (the shapes are
 * fixed and hot); request bodies are parsed with fast-xml-parser into plain objects.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { S3Error, type S3ErrorCode } from '../errors/s3-error.js';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' };

/** Escapes text for element content and attribute values. Control characters S3 allows in keys are written as character references. */
export function escapeXml(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
  return text.replace(/[&<>"'\r\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => ESCAPES[c] ?? `&#${c.charCodeAt(0)};`);
}

export type XmlChild = string | XmlChild[] | undefined | null | false;

/** `<name>children</name>`; string children must already be XML (use `text()` for values). Undefined children vanish. */
export function el(name: string, ...children: XmlChild[]): string {
  return `<${name}>${flatten(children)}</${name}>`;
}

/** An element holding an escaped text value; omitted entirely when the value is undefined. */
export function text(name: string, value: string | number | boolean | undefined | null): string {
  if (value === undefined || value === null) return '';
  return `<${name}>${escapeXml(String(value))}</${name}>`;
}

/** A whole document: declaration plus a root element carrying the S3 namespace. */
export function doc(root: string, ...children: XmlChild[]): string {
  return `${XML_DECL}<${root} xmlns="${S3_NS}">${flatten(children)}</${root}>`;
}

function flatten(children: XmlChild[]): string {
  let out = '';
  for (const child of children) {
    if (!child) continue;
    out += Array.isArray(child) ? flatten(child) : child;
  }
  return out;
}

/** ISO 8601 with milliseconds, as S3 writes LastModified / CreationDate in XML. */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** One char or entity reference, decoded in a single pass (so `&amp;#34;` stays `&#34;`). */
function decodeEntity(ref: string, name: string): string {
  if (name[0] !== '#') return XML_ENTITIES[name] ?? ref;
  const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
  return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : ref;
}

/**
 * The five XML entities plus character references (`&#34;`, `&#x22;`). fast-xml-parser 5 only
 * decodes character references with its HTML mode on, yet XML writers use them: Go's encoder
 * (rclone, aws-sdk-go) sends ETags as `&#34;…&#34;`, SDKs escape CR/LF in keys as `&#13;` / `&#xD;`.
 * DOCTYPE-declared entities are deliberately not expanded.
 */
const entityDecoder = {
  decode: (text: string): string => text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|amp|lt|gt|quot|apos);/g, decodeEntity),
  setExternalEntities: (): void => {},
  addInputEntities: (): void => {},
  reset: (): void => {},
  setXmlVersion: (): void => {},
};

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  removeNSPrefix: true,
  parseTagValue: false,
  // Values are trimmed (pretty-printed documents), except object keys and tag values, where
  // leading and trailing spaces are part of the name: DeleteObjects must delete ' a ', not 'a'.
  trimValues: false,
  tagValueProcessor: (name: string, value: string, _path: unknown, _hasAttributes: boolean, isLeafNode: boolean) =>
    isLeafNode && VERBATIM_ELEMENTS.has(name) ? value : value.trim(),
  processEntities: true,
  entityDecoder,
  // Elements that may repeat are always arrays, so callers never branch on shape.
  isArray: (name) => ARRAY_ELEMENTS.has(name),
});

const VERBATIM_ELEMENTS = new Set(['Key', 'Value']);
const ARRAY_ELEMENTS = new Set(['Object', 'Part', 'Grant', 'Tag', 'CORSRule', 'AllowedOrigin', 'AllowedMethod', 'AllowedHeader', 'ExposeHeader', 'RoutingRule', 'Rule']);

export type XmlNode = { [name: string]: XmlValue };
export type XmlValue = string | XmlNode | XmlValue[];

/** Parses a request body; anything not well-formed is `code` (MalformedXML unless the operation says otherwise). */
export function parseXml(body: string, code: S3ErrorCode = 'MalformedXML'): XmlNode {
  if (body.trim() === '') throw new S3Error(code);
  // No S3 document has a DTD: refusing any is simpler and safer than trusting a parser's
  // limits on entity expansion (billion laughs) or its handling of external entities.
  if (/<!(DOCTYPE|ENTITY)/i.test(body)) throw new S3Error(code, 'XML documents with a DOCTYPE or entity declarations are not accepted');
  const valid = XMLValidator.validate(body);
  if (valid !== true) throw new S3Error(code);
  try {
    return parser.parse(body) as XmlNode;
  } catch {
    throw new S3Error(code);
  }
}

/** Child element as a node (undefined when absent or not an element). */
export function child(node: XmlValue | undefined, name: string): XmlNode | undefined {
  if (!node || typeof node === 'string' || Array.isArray(node)) return undefined;
  const value = node[name];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value === '' ? {} : undefined;
  return Array.isArray(value) ? undefined : value;
}

/** Child elements that repeat (always an array). */
export function children(node: XmlValue | undefined, name: string): XmlValue[] {
  if (!node || typeof node === 'string' || Array.isArray(node)) return [];
  const value = node[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** Text content of a child element. */
export function childText(node: XmlValue | undefined, name: string): string | undefined {
  if (!node || typeof node === 'string' || Array.isArray(node)) return undefined;
  const value = node[name];
  if (typeof value === 'string') return value;
  if (value && !Array.isArray(value) && typeof value['#text'] === 'string') return value['#text'];
  return undefined;
}
