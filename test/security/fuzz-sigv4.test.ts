/**
 * Property-based checks that the server's SigV4 canonicalisation (src/auth) agrees with the SDK's
 * signer (@smithy/signature-v4) for awkward keys, query strings (reserved and Unicode characters,
 * empty values) and header values with odd whitespace: what the SDK signs always verifies, in
 * the header and presigned forms, and any single-byte change to a signed part is refused, with
 * SignatureDoesNotMatch when it is not one of the fields the check reads first.
 * Unit level (authenticate() directly, fixed clock): bounded runs, a few seconds.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../src/cli/admin-client.js';
import { authenticate } from '../../src/auth/index.js';
import { S3Error } from '../../src/errors/s3-error.js';
import type { AuthInput, AuthOptions } from '../../src/auth/types.js';

const RUNS = { numRuns: 300 };
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const CREDENTIAL = { accessKeyId: 'OFLXFUZZACCESSKEY001', secretAccessKey: 'fuzz-secret-key-0123456789abcdef', owner: 'owner-id', displayName: 'fuzz' };
const OPTIONS: AuthOptions = { region: 'us-east-1', lookup: (id) => (id === CREDENTIAL.accessKeyId ? CREDENTIAL : undefined), now: NOW };
const HOST = 'fuzz.localhost:9000';
const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: CREDENTIAL, sha256: Sha256, uriEscapePath: false, applyChecksum: false });

/** RFC 3986 encoding as the SDKs put paths and queries on the wire (the smithy escapeUri). */
const escape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const awkward = fc.oneof(
  fc.constantFrom(...'/!*\'();:@&=+$,?#[] %~-._', '%20', '%2F', '..', '//', '\u00e9', '\u4e2d', '\ud83d\ude00', '\u0000', '\t'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 3 }),
);
const text = (min: number, max: number) => fc.array(awkward, { minLength: min, maxLength: max }).map((p) => p.join(''));
const queryName = text(1, 6).filter((k) => !/^x-amz-/i.test(k));
/** Header values: printable ASCII with spaces and tabs anywhere, runs of them included. */
const headerValue = fc.array(fc.oneof(fc.constantFrom(' ', '\t', '   ', ' \t '), fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 4 })), { maxLength: 8 }).map((p) => p.join(''));
const metaName = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'), minLength: 1, maxLength: 10 }).map((n) => `x-amz-meta-${n}`);

interface Generated {
  method: string;
  key: string;
  query: [string, string][];
  bareNames: boolean;
  headers: Record<string, string>;
}

const request: fc.Arbitrary<Generated> = fc.record({
  method: fc.constantFrom('GET', 'PUT', 'HEAD', 'DELETE', 'POST'),
  key: text(1, 12),
  query: fc.uniqueArray(fc.tuple(queryName, text(0, 6)), { maxLength: 4, selector: ([k]) => k }),
  bareNames: fc.boolean(),
  headers: fc.dictionary(metaName, headerValue, { maxKeys: 3 }),
});

const wirePath = (key: string) => `/bucket/${key.split('/').map(escape).join('/')}`;
/** Node hands header values over without leading and trailing spaces or tabs. */
const asNodeGivesIt = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.replace(/^[ \t]+|[ \t]+$/g, '')]));

function wireQuery(pairs: [string, string][], bareNames: boolean): string {
  return pairs.map(([k, v]) => (v === '' && bareNames ? escape(k) : `${escape(k)}=${escape(v)}`)).join('&');
}

async function headerSigned(g: Generated): Promise<AuthInput> {
  const path = wirePath(g.key);
  const signed = await signer.sign(
    { method: g.method, protocol: 'http:', hostname: 'fuzz.localhost', port: 9000, path, query: Object.fromEntries(g.query), headers: { host: HOST, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...g.headers } },
    { signingDate: new Date(NOW) },
  );
  return { method: g.method, rawPath: path, rawQuery: wireQuery(g.query, g.bareNames), headers: asNodeGivesIt(signed.headers), virtualHostBucket: undefined };
}

async function presigned(g: Generated): Promise<AuthInput> {
  const path = wirePath(g.key);
  const signed = await signer.presign(
    // As the SDK's presigner does: an unsigned payload, said in a header it hoists into the query.
    { method: g.method, protocol: 'http:', hostname: 'fuzz.localhost', port: 9000, path, query: Object.fromEntries(g.query), headers: { host: HOST, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...g.headers } },
    { signingDate: new Date(NOW), expiresIn: 3600, unhoistableHeaders: new Set(Object.keys(g.headers)) },
  );
  const pairs = Object.entries(signed.query as Record<string, string>);
  return { method: g.method, rawPath: path, rawQuery: wireQuery(pairs, g.bareNames), headers: asNodeGivesIt({ host: HOST, ...g.headers }) };
}

/** The error code authenticate() answers with, or 'verified'. Anything but an S3Error fails the property. */
function outcome(input: AuthInput): string {
  try {
    const result = authenticate(input, OPTIONS);
    expect(result.principal.kind).toBe('user');
    return 'verified';
  } catch (err) {
    if (err instanceof S3Error) return err.code;
    throw err;
  }
}

describe('what the SDK signs, the server verifies', () => {
  it('header form', async () => {
    await fc.assert(fc.asyncProperty(request, async (g) => {
      expect(outcome(await headerSigned(g))).toBe('verified');
    }), RUNS);
  });
  it('presigned form', async () => {
    await fc.assert(fc.asyncProperty(request, async (g) => {
      expect(outcome(await presigned(g))).toBe('verified');
    }), RUNS);
  });
});

/** One byte of a string replaced by a different printable one. */
const mutation = fc.record({ at: fc.nat(), byte: fc.integer({ min: 0x21, max: 0x7e }) });
type Mutation = { at: number; byte: number };

function mutate(s: string, m: Mutation, forbidden = ''): string | undefined {
  if (s.length === 0) return undefined;
  const i = m.at % s.length;
  const c = String.fromCharCode(m.byte);
  if (c === s[i] || forbidden.includes(c)) return undefined;
  return s.slice(0, i) + c + s.slice(i + 1);
}

/** Percent-decoding for comparing meanings; undecodable text stands for itself. */
const lenientDecode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return `\u0000raw:${s}`;
  }
};
const pathMeaning = (rawPath: string) => rawPath.split('/').map(lenientDecode).join('\u0001');
const queryMeaning = (rawQuery: string) => rawQuery.split('&').filter((p) => p !== '').map((pair) => {
  const eq = pair.indexOf('=');
  return eq < 0 ? [lenientDecode(pair), ''] : [lenientDecode(pair.slice(0, eq)), lenientDecode(pair.slice(eq + 1))];
}).map(([k, v]) => `${k}\u0001${v}`).sort();
/** The X-Amz-* parameters of a presigned query, as the server reads them. */
const authParams = (rawQuery: string) => queryMeaning(rawQuery).filter((kv) => kv.startsWith('X-Amz-'));

type Part = 'method' | 'path' | 'query' | 'header' | 'signature';
const part = fc.constantFrom<Part>('method', 'path', 'query', 'header', 'signature');

/** Applies the mutation to one signed part; undefined when it does not apply (or cannot go on the wire). */
function bend(input: AuthInput, which: Part, m: Mutation, presignedForm: boolean): { input: AuthInput; same: boolean } | undefined {
  const withHeader = (name: string, value: string) => ({ ...input, headers: { ...input.headers, [name]: value } });
  switch (which) {
    case 'method': {
      const method = mutate(input.method, m);
      return method === undefined ? undefined : { input: { ...input, method }, same: false };
    }
    case 'path': {
      // '?' and '#' would end the path on the wire.
      const rawPath = mutate(input.rawPath, m, '?#');
      return rawPath === undefined ? undefined : { input: { ...input, rawPath }, same: pathMeaning(input.rawPath) === pathMeaning(rawPath) };
    }
    case 'query': {
      const rawQuery = mutate(input.rawQuery, m, '#');
      return rawQuery === undefined ? undefined : { input: { ...input, rawQuery }, same: queryMeaning(input.rawQuery).join('\n') === queryMeaning(rawQuery).join('\n') };
    }
    case 'header': {
      const names = Object.keys(input.headers).filter((n) => n !== 'authorization' && n !== 'x-amz-date');
      const name = names[m.at % names.length]!;
      const value = mutate(String(input.headers[name]), m);
      return value === undefined ? undefined : { input: withHeader(name, value), same: false };
    }
    case 'signature': {
      if (presignedForm) {
        const rawQuery = input.rawQuery.replace(/X-Amz-Signature=([0-9a-f]{64})/, (_x, sig: string) => `X-Amz-Signature=${mutate(sig, m) ?? sig}`);
        return rawQuery === input.rawQuery ? undefined : { input: { ...input, rawQuery }, same: false };
      }
      const auth = String(input.headers.authorization);
      const sig = /Signature=([0-9a-f]{64})$/.exec(auth)![1]!;
      const changed = mutate(sig, m);
      return changed === undefined ? undefined : { input: withHeader('authorization', auth.replace(sig, changed)), same: false };
    }
  }
}

/** Presigned: a byte changed in an X-Amz-* parameter may be caught by an earlier check than the signature. */
const EARLIER_CHECKS = ['AuthorizationQueryParametersError', 'AccessDenied', 'InvalidAccessKeyId'];

describe('a single-byte change to a signed part is refused', () => {
  it('header form: SignatureDoesNotMatch, unless the change means the same', async () => {
    await fc.assert(
      fc.asyncProperty(request, part, mutation, async (g, which, m) => {
        const bent = bend(await headerSigned(g), which, m, false);
        fc.pre(bent !== undefined);
        const result = outcome(bent!.input);
        if (bent!.same) expect(result).toBe('verified');
        else expect(result).toBe('SignatureDoesNotMatch');
      }),
      { numRuns: 500 },
    );
  });

  it('presigned form: never verifies, and SignatureDoesNotMatch outside the X-Amz-* parameters', async () => {
    await fc.assert(
      fc.asyncProperty(request, part, mutation, async (g, which, m) => {
        const input = await presigned(g);
        const bent = bend(input, which, m, true);
        fc.pre(bent !== undefined);
        const result = outcome(bent!.input);
        if (bent!.same) {
          expect(result).toBe('verified');
          return;
        }
        expect(result).not.toBe('verified');
        const inAuthParam = authParams(input.rawQuery).join('\n') !== authParams(bent!.input.rawQuery).join('\n');
        if (inAuthParam) expect([...EARLIER_CHECKS, 'SignatureDoesNotMatch']).toContain(result);
        else expect(result).toBe('SignatureDoesNotMatch');
      }),
      { numRuns: 500 },
    );
  });
});

describe('an x-amz-* header added after signing is refused', () => {
  const added = fc.tuple(fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-'), minLength: 1, maxLength: 24 }).map((n) => `x-amz-${n}`), fc.string({ unit: 'grapheme-ascii', maxLength: 12 }));
  /** Bound by the signature without being listed (see src/auth/signed-headers.ts). */
  const bound = { header: ['x-amz-content-sha256', 'x-amz-date'], presigned: ['x-amz-content-sha256'] };

  it.each(['header', 'presigned'] as const)('%s form: AccessDenied naming it', async (form) => {
    await fc.assert(
      fc.asyncProperty(request, added, async (g, [name, value]) => {
        const input = form === 'header' ? await headerSigned(g) : await presigned(g);
        fc.pre(!(name in input.headers) && !bound[form].includes(name));
        let thrown: unknown;
        try {
          authenticate({ ...input, headers: { ...input.headers, [name]: value } }, OPTIONS);
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBeInstanceOf(S3Error);
        expect(thrown).toMatchObject({ code: 'AccessDenied', details: { HeadersNotSigned: name } });
      }),
      RUNS,
    );
  });
});
