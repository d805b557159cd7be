/**
 * Property-based checks of the pure router (src/s3/router.ts): whatever arrives as method, path,
 * query, Host and x-amz-copy-source, it answers with an Operation or an S3Error (which the handler
 * turns into an error document), never another exception (a 500 and a stack in the log); and the
 * bucket and key a client encodes into a path (path style or virtual-hosted) come back unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BUCKET_OPS, OBJECT_OPS, SERVICE_OPS, bucketFromHost, route, splitPath, type Operation } from '../../src/s3/router.js';
import { S3Error } from '../../src/errors/s3-error.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { send, serverAlive } from './_sign.js';

const RUNS = { numRuns: 400 };
const OP_NAMES: string[] = [...SERVICE_OPS, ...BUCKET_OPS, ...OBJECT_OPS, 'CorsPreflight'];

/** Everything a path or query may hold: percent signs, reserved characters, any Unicode. */
const awkward = fc.oneof(
  fc.constantFrom('%', '%2', '%2F', '%zz', '%C3', '%C3%A9', '%FF', '%00', '/', '//', '?', '#', '&', '=', '+', ' ', ';', '..', '.', '~', '\\', '\u0000', '\uFFFD'),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);
const awkwardString = fc.array(awkward, { maxLength: 12 }).map((parts) => parts.join(''));
const method = fc.oneof(fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', '', 'get', 'valueOf', 'constructor', '__proto__', 'toString', 'hasOwnProperty'), fc.string({ maxLength: 8 }));
const SUBRESOURCES = ['acl', 'policy', 'policyStatus', 'cors', 'website', 'tagging', 'versioning', 'location', 'uploads', 'uploadId', 'partNumber', 'delete', 'versions', 'list-type', 'retention', 'legal-hold', 'attributes', 'restore', 'select', 'torrent', 'object-lock', 'analytics'];
const query = fc.oneof(
  awkwardString,
  fc.array(fc.tuple(fc.oneof(fc.constantFrom(...SUBRESOURCES), awkwardString), awkwardString), { maxLength: 4 })
    .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
);
const host = fc.oneof(fc.constant(undefined), fc.constantFrom('localhost', 'media.localhost:9000', '127.0.0.1:9000', '[::1]:9000', '[', ':', '.localhost', 'a..localhost'), awkwardString);

/** Calls `f`; passes if it returns or throws an S3Error, fails on any other exception. */
function onlyS3Errors<T>(f: () => T): T | S3Error {
  try {
    return f();
  } catch (err) {
    if (err instanceof S3Error) return err;
    throw err;
  }
}

describe('the router on arbitrary input', () => {
  it('never throws anything but S3Error', () => {
    fc.assert(
      fc.property(method, fc.oneof(awkwardString, awkwardString.map((p) => `/${p}`)), query, host, fc.option(awkwardString, { nil: undefined }), (m, rawPath, q, h, copySource) => {
        const hostBucket = onlyS3Errors(() => bucketFromHost(h, 'localhost', (name) => name.length % 2 === 0));
        expect(hostBucket === undefined || typeof hostBucket === 'string').toBe(true);
        const result = onlyS3Errors(() => route({ method: m, rawPath, query: new URLSearchParams(q), hostBucket: hostBucket as string | undefined, copySource }));
        if (!(result instanceof S3Error)) expect(OP_NAMES).toContain(result.op);
      }),
      RUNS,
    );
  });

  it('refuses a path that does not start with / or does not decode as InvalidURI', () => {
    fc.assert(
      fc.property(awkwardString, (rawPath) => {
        const result = onlyS3Errors(() => splitPath(rawPath));
        let decodes = true;
        try {
          decodeURIComponent(rawPath);
        } catch {
          decodes = false;
        }
        if (!rawPath.startsWith('/') || !decodes) expect(result).toMatchObject({ code: 'InvalidURI' });
        else expect(result).not.toBeInstanceOf(S3Error);
      }),
      RUNS,
    );
  });
});

/** Bucket names as S3 allows them: 3-63 of a-z 0-9 . -, starting and ending with a letter or digit, no '..'. */
const bucketName = fc
  .tuple(
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'),
    fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.-'), minLength: 1, maxLength: 61 }),
    fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'),
  )
  .map(([a, mid, z]) => `${a}${mid}${z}`)
  .filter((name) => !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name));

/** Object keys: any Unicode, slashes (leading, doubled), dots, percent signs and the rest. */
const objectKey = fc.array(awkward, { minLength: 1, maxLength: 16 }).map((parts) => parts.join('')).filter((key) => key !== '' && isWellFormed(key));

function isWellFormed(s: string): boolean {
  try {
    encodeURIComponent(s);
    return true;
  } catch {
    return false;
  }
}

/** How the SDKs put a key on the wire: each segment RFC 3986-encoded, slashes kept. */
const encodeKey = (key: string) => key.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');

describe('routes round-trip', () => {
  it('path style: /bucket/key gives back the bucket and key, for every object operation', () => {
    fc.assert(
      fc.property(bucketName, objectKey, fc.constantFrom(['GET', 'GetObject'], ['HEAD', 'HeadObject'], ['PUT', 'PutObject'], ['DELETE', 'DeleteObject'] as const), (bucket, key, [m, op]) => {
        const expected: Operation = { op, bucket, key };
        expect(route({ method: m, rawPath: `/${bucket}/${encodeKey(key)}`, query: new URLSearchParams() })).toEqual(expected);
      }),
      RUNS,
    );
  });

  it('virtual-hosted: the Host names the bucket and the whole path is the key', () => {
    fc.assert(
      fc.property(bucketName, objectKey, fc.constantFrom('localhost', 'media.example.com'), fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }), (bucket, key, domain, port) => {
        const hostBucket = bucketFromHost(`${bucket.toUpperCase()}.${domain}${port === undefined ? '' : `:${port}`}`, domain, () => false);
        expect(hostBucket).toBe(bucket);
        expect(route({ method: 'GET', rawPath: `/${encodeKey(key)}`, query: new URLSearchParams(), hostBucket })).toEqual({ op: 'GetObject', bucket, key });
      }),
      RUNS,
    );
  });

  it('a bucket named like the Host (custom domain) is virtual-hosted; the API host itself is path style', () => {
    fc.assert(
      fc.property(bucketName, (bucket) => {
        expect(bucketFromHost(`${bucket}:9000`, 'localhost', (name) => name === bucket)).toBe(bucket);
        expect(bucketFromHost(`${bucket}:9000`, 'localhost', () => false)).toBeUndefined();
        expect(bucketFromHost('localhost:9000', 'localhost', () => true)).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('a PUT with x-amz-copy-source is CopyObject (UploadPartCopy with a part), whatever the source says', () => {
    fc.assert(
      fc.property(bucketName, objectKey, awkwardString, fc.boolean(), (bucket, key, source, part) => {
        const q = new URLSearchParams(part ? 'partNumber=1&uploadId=x' : '');
        expect(route({ method: 'PUT', rawPath: `/${bucket}/${encodeKey(key)}`, query: q, copySource: source })).toEqual({ op: part ? 'UploadPartCopy' : 'CopyObject', bucket, key });
      }),
      RUNS,
    );
  });

  it('bucket-level requests keep the bucket, with or without a trailing slash', () => {
    fc.assert(
      fc.property(bucketName, fc.boolean(), (bucket, slash) => {
        expect(route({ method: 'GET', rawPath: `/${bucket}${slash ? '/' : ''}`, query: new URLSearchParams('list-type=2') })).toEqual({ op: 'ListObjectsV2', bucket });
      }),
      RUNS,
    );
  });
});

describe('the real server on arbitrary request targets', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  /** What Node's parser lets through in a request target and a header value: printable ASCII. */
  const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });
  const target = fc.oneof(printable.map((t) => `/${t}`), fc.tuple(awkwardString, query).map(([p, q]) => `/${encodeURI(p.replace(/[\uD800-\uDFFF]/g, ''))}?${encodeURI(q.replace(/[\uD800-\uDFFF]/g, ''))}`));

  it('answers every one with a 2xx-4xx status (or 501 NotImplemented) and keeps running', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'OPTIONS'), target, fc.oneof(fc.constant(`127.0.0.1:${0}`), printable), fc.option(printable, { nil: undefined }), async (m, t, h, copySource) => {
        const headers: Record<string, string> = { host: h === '127.0.0.1:0' ? `127.0.0.1:${server.port}` : h || 'x' };
        if (copySource !== undefined) headers['x-amz-copy-source'] = copySource;
        const res = await send(server, { method: m, target: t, headers, body: m === 'PUT' || m === 'POST' ? 'x' : undefined });
        expect(res.status, `${m} ${t}\n${res.body}`).toBeGreaterThanOrEqual(200);
        // 501 NotImplemented is an honest answer (a sub-resource this server does not do); no other 5xx.
        if (res.status === 501) expect(m === 'HEAD' ? '<Code>NotImplemented</Code>' : res.body).toContain('<Code>NotImplemented</Code>');
        else expect(res.status, `${m} ${t}\n${res.body}`).toBeLessThan(500);
      }),
      { numRuns: 200 },
    );
    expect(await serverAlive(server)).toBe(true);
  });
});
