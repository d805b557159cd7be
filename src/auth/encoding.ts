/** URI encoding as SigV4 defines it, and the canonical forms of paths and query strings. */

/** RFC 3986 unreserved characters stay; everything else is %XX (upper-case), slashes optionally kept. */
export function uriEncode(value: string, keepSlash: boolean): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    if ((byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || c === '-' || c === '_' || c === '.' || c === '~' || (keepSlash && c === '/')) {
      out += c;
    } else {
      out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
  }
  return out;
}

/** Percent-decoding that never throws: a malformed escape is kept literally, as S3 does. */
export function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value.replace(/%([0-9a-fA-F]{2})/g, (m, hex: string) => {
      const code = parseInt(hex, 16);
      return code < 0x80 ? String.fromCharCode(code) : m;
    });
  }
}

/** The raw query split into decoded pairs (`+` stays a plus: S3 clients encode spaces as %20). */
export function queryPairs(rawQuery: string): [string, string][] {
  if (rawQuery === '') return [];
  return rawQuery.split('&').filter((p) => p !== '').map((pair) => {
    const eq = pair.indexOf('=');
    return eq < 0 ? [safeDecode(pair), ''] : [safeDecode(pair.slice(0, eq)), safeDecode(pair.slice(eq + 1))];
  });
}

export function canonicalQuery(pairs: [string, string][]): string {
  return pairs
    .map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/**
 * Candidate canonical URIs: the path re-encoded strictly (what the SDKs sign), then the path as
 * sent (clients that sign their own, laxer encoding, such as a raw `+` or `~`).
 */
export function canonicalPaths(rawPath: string): string[] {
  const strict = rawPath.split('/').map((segment) => uriEncode(safeDecode(segment), false)).join('/');
  return strict === rawPath ? [strict] : [strict, rawPath];
}
