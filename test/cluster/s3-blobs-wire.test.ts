/**
 * What the S3 blob backend sends to the store, seen on the wire: a loopback proxy between the
 * backend and a throw-away Ceph RADOS Gateway records every request (and can fail or corrupt
 * one). A blob that fits one PUT goes as a single PUT of known length with its Content-MD5
 * (the gateway checks the bytes; no payload hash or CRC on top), on kept-alive connections; a
 * write is acknowledged only after the gateway answered 200, and a corrupted body is refused.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openBlobStorage } from '../../src/storage/blob-backends/open.js';
import { cephInstalled, startCeph, type CephGateway } from '../helpers/ceph.js';
import { missingPeer } from '../helpers/require-peer.js';
import { blobsUrl, clientOf, createBucket } from '../conformance/blobs/s3-fixture.js';

interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
  socket: number;
}

/** A recording proxy; `tamper` may answer a request itself or change its body before forwarding. */
class WireProxy {
  seen: Seen[] = [];
  tamper: (seen: Seen, body: Buffer) => { status: number } | Buffer | undefined = () => undefined;
  private server!: Server;
  private sockets = 0;
  constructor(private readonly target: URL) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const seen = { method: req.method!, path: req.url!, headers: req.headers, bodyBytes: body.length, socket: (req.socket as unknown as { n: number }).n };
        this.seen.push(seen);
        const verdict = this.tamper(seen, body);
        if (verdict !== undefined && !Buffer.isBuffer(verdict)) {
          res.writeHead(verdict.status, { 'content-type': 'application/xml' }).end('<Error><Code>InternalError</Code></Error>');
          return;
        }
        const out = request({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode!, up.headers);
          up.pipe(res);
        });
        out.on('error', () => res.destroy());
        out.end(verdict ?? body);
      });
    });
    this.server.on('connection', (socket) => Object.assign(socket, { n: this.sockets++ }));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest();
// The engine hands the backend the request body in chunks of whatever size arrived.
const chunked = (bytes: Buffer, size = 16 * 1024) => Readable.from(Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size)));

const peers = missingPeer('ceph (ceph-mon, ceph-osd, radosgw)', cephInstalled());

describe.skipIf(peers)('S3 blob backend on the wire (Ceph RGW behind a recording proxy)', () => {
  let ceph: CephGateway;
  let proxy: WireProxy;
  let endpoint: string;
  const open = (prefix: string) => openBlobStorage(blobsUrl({ ...ceph, endpoint }, 'wire', prefix, 3600_000));

  beforeAll(async () => {
    ceph = await startCeph();
    await createBucket(ceph, 'wire');
    proxy = new WireProxy(new URL(ceph.endpoint));
    endpoint = await proxy.start();
  }, 120_000);
  afterAll(async () => {
    await proxy?.stop();
    await ceph?.stop();
  });
  beforeEach(() => {
    proxy.seen = [];
    proxy.tamper = () => undefined;
  });

  it('a blob of one part is one PUT of known length with its Content-MD5, no streaming encoding or extra checksum', async () => {
    const blobs = open('one/');
    const bytes = randomBytes(80 * 1024);
    const blob = await blobs.write(chunked(bytes));
    expect(blob.md5.equals(md5(bytes))).toBe(true);
    expect(proxy.seen.map((s) => s.method)).toEqual(['PUT']);
    const [put] = proxy.seen;
    expect(put!.path).toBe(`/wire/one/blobs/${blob.id}`);
    expect(put!.headers['content-length']).toBe(String(bytes.length));
    expect(put!.headers['content-md5']).toBe(md5(bytes).toString('base64'));
    expect(put!.headers['transfer-encoding']).toBeUndefined();
    expect(put!.headers['content-encoding']).toBeUndefined();
    expect(put!.headers.expect).toBeUndefined();
    expect(Object.keys(put!.headers).filter((h) => h.startsWith('x-amz-checksum') || h === 'x-amz-decoded-content-length' || h === 'x-amz-trailer')).toEqual([]);
    expect(put!.bodyBytes).toBe(bytes.length);
    // The bytes are in the gateway as sent.
    const stored = await clientOf(ceph).send(new GetObjectCommand({ Bucket: 'wire', Key: `one/blobs/${blob.id}` }));
    expect(md5(Buffer.from(await stored.Body!.transformToByteArray())).equals(md5(bytes))).toBe(true);
  }, 30_000);

  it('writes and ranged reads reuse kept-alive connections', async () => {
    const blobs = open('alive/');
    const bytes = randomBytes(100 * 1024);
    for (let i = 0; i < 5; i++) {
      const blob = await blobs.write(chunked(bytes));
      expect((await blobs.readRange(blob.id, { start: 1000, end: 1999 })).equals(bytes.subarray(1000, 2000))).toBe(true);
      const streamed: Buffer[] = [];
      for await (const c of blobs.readStream(blob.id, { start: 0, end: bytes.length - 1 }) as AsyncIterable<Buffer>) streamed.push(c);
      expect(Buffer.concat(streamed).equals(bytes)).toBe(true);
    }
    expect(proxy.seen.map((s) => s.method)).toEqual(Array.from({ length: 5 }, () => ['PUT', 'GET', 'GET']).flat());
    expect(proxy.seen.find((s) => s.method === 'GET')!.headers.range).toBe('bytes=1000-1999');
    expect(new Set(proxy.seen.map((s) => s.socket)).size).toBe(1);
  }, 30_000);

  it('a body corrupted on the way is refused by the gateway (BadDigest) and the write is not acknowledged', async () => {
    const blobs = open('bad/');
    proxy.tamper = (seen, body) => {
      if (seen.method !== 'PUT') return undefined;
      const flipped = Buffer.from(body);
      flipped[10] = flipped[10]! ^ 0xff;
      return flipped;
    };
    await expect(blobs.write(chunked(randomBytes(80 * 1024)))).rejects.toMatchObject({ name: 'BadDigest' });
    const put = proxy.seen.find((s) => s.method === 'PUT')!;
    const key = decodeURIComponent(put.path.slice('/wire/'.length));
    await expect(clientOf(ceph).send(new HeadObjectCommand({ Bucket: 'wire', Key: key }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  }, 30_000);

  it('a gateway error is retried; a gateway that keeps failing fails the write', async () => {
    const blobs = open('retry/');
    let failures = 1;
    proxy.tamper = (seen) => (seen.method === 'PUT' && failures-- > 0 ? { status: 503 } : undefined);
    const bytes = randomBytes(70 * 1024);
    const blob = await blobs.write(chunked(bytes));
    expect(proxy.seen.map((s) => s.method)).toEqual(['PUT', 'PUT']);
    expect((await blobs.readRange(blob.id, { start: 0, end: bytes.length - 1 })).equals(bytes)).toBe(true);

    proxy.seen = [];
    proxy.tamper = (seen) => (seen.method === 'PUT' ? { status: 500 } : undefined);
    await expect(blobs.write(chunked(bytes))).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(proxy.seen.filter((s) => s.method === 'PUT').length).toBe(3);
  }, 30_000);

  it('an endpoint given by IP address without forcePathStyle is still addressed path-style (as the SDK does)', async () => {
    const q = new URLSearchParams({ endpoint, region: ceph.region, accessKeyId: ceph.accessKeyId, secretAccessKey: ceph.secretAccessKey });
    const blobs = openBlobStorage(`s3://wire/ip/?${q}`);
    const bytes = randomBytes(70 * 1024);
    const blob = await blobs.write(chunked(bytes));
    expect(proxy.seen.map((s) => s.path)).toEqual([`/wire/ip/blobs/${blob.id}`]);
    expect((await blobs.readRange(blob.id, { start: 5, end: 9 })).equals(bytes.subarray(5, 10))).toBe(true);
  }, 30_000);

  it('a missing blob reads as ENOENT; a range past the end reads empty', async () => {
    const blobs = open('gone/');
    await expect(blobs.readRange('0'.repeat(32), { start: 0, end: 9 })).rejects.toMatchObject({ code: 'ENOENT' });
    const stream = blobs.readStream('0'.repeat(32), { start: 0, end: 9 });
    await expect(new Promise((resolve, reject) => stream.on('error', reject).on('end', resolve).resume())).rejects.toMatchObject({ code: 'ENOENT' });
    const blob = await blobs.write(chunked(randomBytes(70 * 1024)));
    expect((await blobs.readRange(blob.id, { start: 80 * 1024, end: 90 * 1024 })).length).toBe(0);
    await blobs.remove(blob.id);
    await blobs.remove(blob.id);
    await expect(blobs.readRange(blob.id, { start: 0, end: 9 })).rejects.toMatchObject({ code: 'ENOENT' });
  }, 30_000);
});
