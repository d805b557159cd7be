/**
 * Uploads cut short: a client that disconnects mid-body (PUT of a new key, PUT over an existing
 * object, UploadPart), and a server sent SIGTERM mid-upload. The old bytes stay whole, nothing
 * half-written becomes visible, the temp file goes at once (not only at the next start), an
 * upload in flight when SIGTERM comes is finished and durable, and the server stays up (or,
 * after SIGTERM, exits cleanly). Bounded: a few cuts each.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { connect } from 'node:net';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, ListPartsCommand, PutObjectCommand, type S3Client, type S3ServiceException } from '@aws-sdk/client-s3';
import { sdkClient } from '../helpers/clients.js';
import { signRequest, toHttp } from '../helpers/raw.js';
import { strays, versionBytes, versionOf } from './disk-harness.js';

const roots: string[] = [];
afterAll(() => roots.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const MiB = 1024 * 1024;

function freshDataDir(): string {
  const root = mkdtempSync(join(tmpdir(), 'offload-faults-cut-'));
  roots.push(root);
  return join(root, 'data');
}

/** The request's bytes, signed with an unsigned payload so that any prefix of the body is a valid start. */
async function uploadBytes(server: TestServer, path: string, body: Buffer, query?: Record<string, string>): Promise<{ bytes: Buffer; bodyStart: number }> {
  const parts = await signRequest(server, { method: 'PUT', path, query, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
  const bytes = toHttp({ ...parts, body });
  return { bytes, bodyStart: bytes.length - body.length };
}

/** Sends the first `upTo` bytes, then either cuts the connection or resolves with a function that sends the rest and reads the status. */
function sendPart(server: TestServer, bytes: Buffer, upTo: number): Promise<{ cut(): void; finish(): Promise<number> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, '127.0.0.1', () => {
      socket.write(bytes.subarray(0, upTo), () => {
        resolve({
          cut: () => socket.destroy(),
          finish: () =>
            new Promise<number>((done) => {
              let head = '';
              socket.on('data', (c: Buffer) => {
                head += c.toString('latin1');
                const m = /^HTTP\/1\.1 (\d+)/.exec(head);
                if (m && head.includes('\r\n\r\n')) {
                  socket.destroy();
                  done(Number(m[1]));
                }
              });
              socket.on('close', () => done(Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0)));
              socket.write(bytes.subarray(upTo));
            }),
        });
      });
    });
    socket.on('error', reject);
  });
}

async function waitFor(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function readOrMissing(s3: S3Client, key: string): Promise<Buffer | 'missing'> {
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: 'cut', Key: key }));
    return Buffer.from(await got.Body!.transformToByteArray());
  } catch (err) {
    expect((err as S3ServiceException).name).toBe('NoSuchKey');
    return 'missing';
  }
}

describe('a client that disconnects mid-upload', () => {
  it('leaves the old object whole, no new one, no temp file, and a live server', async () => {
    const dataDir = freshDataDir();
    let server = await startServer({ dataDir });
    let s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'cut' }));
    const old = versionBytes('existing', 1, 300_000);
    await s3.send(new PutObjectCommand({ Bucket: 'cut', Key: 'existing', Body: old }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'cut', Key: 'parts' }));
    const size = 3 * MiB;
    for (const [round, fraction] of [0.01, 0.3, 0.7, 0.99].entries()) {
      const uploads = [
        await uploadBytes(server, '/cut/existing', versionBytes('existing', 2 + round, size)),
        await uploadBytes(server, `/cut/fresh-${round}`, versionBytes('fresh', round, size)),
        await uploadBytes(server, '/cut/parts', versionBytes('part', round, size), { partNumber: '1', uploadId: UploadId! }),
      ];
      const sent = await Promise.all(uploads.map((u) => sendPart(server, u.bytes, u.bodyStart + Math.floor(size * fraction))));
      // Wait until the server has the temp files open (bodies past the inline limit), then cut.
      await new Promise((r) => setTimeout(r, 100));
      sent.forEach((s) => s.cut());
      await waitFor('the temp files of the cut uploads to go', () => readdirSync(join(dataDir, 'tmp')).length === 0);
      expect(await readOrMissing(s3, 'existing')).toEqual(old);
      expect(await readOrMissing(s3, `fresh-${round}`)).toBe('missing');
      expect((await s3.send(new ListPartsCommand({ Bucket: 'cut', Key: 'parts', UploadId }))).Parts ?? []).toEqual([]);
    }
    expect(server.process.exitCode).toBeNull();
    expect(server.output()).not.toMatch(/internal error|^\s+at /m);
    s3.destroy();
    await server.stop();
    server = await startServer({ dataDir });
    s3 = sdkClient(server);
    expect(strays(dataDir)).toEqual({ temp: [], orphans: [], missing: [] });
    expect(await readOrMissing(s3, 'existing')).toEqual(old);
    s3.destroy();
    await server.stop();
  });
});

describe('SIGTERM mid-upload', () => {
  it('finishes the upload in flight durably, refuses new connections, and exits cleanly', async () => {
    const dataDir = freshDataDir();
    let server = await startServer({ dataDir });
    let s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'cut' }));
    await s3.send(new PutObjectCommand({ Bucket: 'cut', Key: 'doc', Body: versionBytes('doc', 1, 200_000) }));
    s3.destroy();
    const size = 2 * MiB;
    const newer = versionBytes('doc', 2, size);
    const upload = await uploadBytes(server, '/cut/doc', newer);
    const sent = await sendPart(server, upload.bytes, upload.bodyStart + size / 2);
    const exited = new Promise<number | null>((r) => server.process.once('exit', (code) => r(code)));
    server.process.kill('SIGTERM');
    await waitFor('the server to stop listening', () => /SIGTERM, finishing in-flight requests/.test(server.output()));
    await new Promise((r) => setTimeout(r, 200));
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(server.port, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    expect(refused).toBe('ECONNREFUSED');
    expect(await sent.finish()).toBe(200);
    expect(await exited).toBe(0);

    server = await startServer({ dataDir });
    s3 = sdkClient(server);
    expect(strays(dataDir)).toEqual({ temp: [], orphans: [], missing: [] });
    const got = await readOrMissing(s3, 'doc');
    expect(versionOf(got as Buffer)).toBe(2);
    expect((got as Buffer).equals(newer)).toBe(true);
    s3.destroy();
    await server.stop();
  });

  it('drops an upload that outlasts the shutdown grace, leaving the old object whole and no temp file', async () => {
    const dataDir = freshDataDir();
    let server = await startServer({ dataDir });
    let s3 = sdkClient(server);
    await s3.send(new CreateBucketCommand({ Bucket: 'cut' }));
    const old = versionBytes('slow', 1, 200_000);
    await s3.send(new PutObjectCommand({ Bucket: 'cut', Key: 'slow', Body: old }));
    s3.destroy();
    const size = 2 * MiB;
    const upload = await uploadBytes(server, '/cut/slow', versionBytes('slow', 2, size));
    await sendPart(server, upload.bytes, upload.bodyStart + size / 2);
    const exited = new Promise<number | null>((r) => server.process.once('exit', (code) => r(code)));
    server.process.kill('SIGTERM');
    // The stalled client never sends the rest: the server gives up after its 10 s grace.
    expect(await exited).toBe(0);

    server = await startServer({ dataDir });
    s3 = sdkClient(server);
    expect(strays(dataDir)).toEqual({ temp: [], orphans: [], missing: [] });
    expect(await readOrMissing(s3, 'slow')).toEqual(old);
    s3.destroy();
    await server.stop();
  }, 40_000);
});
