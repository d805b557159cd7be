/**
 * Uploads through the console API: a 12 MiB file in parts, a simulated network drop (one part's
 * connection cut half-way), resume by listing the parts that arrived, complete, and the bytes
 * read back identical. Also the plain PUT for small files and the guessed Content-Type.
 */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, signedIn, startConsoleServer, type ConsoleClient, type ConsoleServer } from './api-client.js';

let server: ConsoleServer;
let root: ConsoleClient;
const MIB = 1024 * 1024;

beforeAll(async () => {
  server = await startConsoleServer();
  root = await signedIn(server.consoleOrigin, server.accessKeyId, server.secretAccessKey);
  await root.json('POST', '/buckets', { json: { name: 'uploads' } });
}, 30_000);
afterAll(async () => {
  await server?.stop();
});

/** Sends the start of a part and then destroys the connection, as a dropped network would. */
function droppedPart(path: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const url = new URL(`${server.consoleOrigin}/_offload/console/api${path}`);
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'PUT', headers: { cookie: root.cookie!, 'x-offload-csrf': root.csrf!, 'content-length': bytes.length } });
    req.on('error', () => resolve());
    req.write(bytes.subarray(0, bytes.length / 2), () => setTimeout(() => { req.destroy(); resolve(); }, 100));
  });
}

describe('console uploads', () => {
  it('uploads 12 MiB in parts, survives a drop, resumes from the listed parts, and reads back byte for byte', async () => {
    const file = randomBytes(12 * MIB);
    const started = await root.json<{ uploadId: string; partSize: number; contentType: string }>('POST', '/buckets/uploads/uploads', { json: { key: 'video/clip.mp4', size: file.length, public: true } });
    expect(started.status).toBe(201);
    expect(started.body.contentType).toBe('video/mp4');
    const { uploadId } = started.body;
    const partSize = 5 * MIB; // the page may choose smaller parts than suggested; S3's minimum is 5 MiB
    expect(started.body.partSize).toBe(8 * MIB);
    const parts = [file.subarray(0, partSize), file.subarray(partSize, 2 * partSize), file.subarray(2 * partSize)];
    const first = await root.json<{ etag: string }>('PUT', `/buckets/uploads/uploads/${uploadId}/parts/1`, { body: parts[0] });
    expect(first.status).toBe(200);
    expect(first.body.etag).toBe(`"${createHash('md5').update(parts[0]!).digest('hex')}"`);
    await droppedPart(`/buckets/uploads/uploads/${uploadId}/parts/2`, parts[1]!);
    // The page comes back: which parts did the server keep?
    const listed = await root.json<{ key: string; parts: { partNumber: number; size: number; etag: string }[] }>('GET', `/buckets/uploads/uploads/${uploadId}`);
    expect(listed.status).toBe(200);
    expect(listed.body.key).toBe('video/clip.mp4');
    expect(listed.body.parts).toEqual([{ partNumber: 1, size: partSize, etag: first.body.etag }]);
    const etags = [first.body.etag];
    for (const n of [2, 3]) {
      const sent = await root.json<{ etag: string }>('PUT', `/buckets/uploads/uploads/${uploadId}/parts/${n}`, { body: parts[n - 1] });
      expect(sent.status).toBe(200);
      etags.push(sent.body.etag);
    }
    const done = await root.json('POST', `/buckets/uploads/uploads/${uploadId}/complete`, { json: { parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })) } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ key: 'video/clip.mp4', size: file.length, contentType: 'video/mp4', public: true });
    const visitor = await fetch(`${server.endpoint}/uploads/video/clip.mp4`);
    expect(visitor.status).toBe(200);
    expect(visitor.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await visitor.arrayBuffer()).equals(file)).toBe(true);
    expect((await fetch(`${server.endpoint}/_offload/health`)).status).toBe(200);
  });

  it('cancels an upload, after which it is gone', async () => {
    const started = await root.json<{ uploadId: string }>('POST', '/buckets/uploads/uploads', { json: { key: 'later.bin', size: 10 } });
    const aborted = await root.json('DELETE', `/buckets/uploads/uploads/${started.body.uploadId}`);
    expect(aborted.status).toBe(200);
    const gone = await root.json('GET', `/buckets/uploads/uploads/${started.body.uploadId}`);
    expect(gone.status).toBe(404);
    expect(errorCode(gone.body)).toBe('NoSuchUpload');
  });

  it('refuses an upload id of another bucket', async () => {
    await root.json('POST', '/buckets', { json: { name: 'other-bucket' } });
    const started = await root.json<{ uploadId: string }>('POST', '/buckets/uploads/uploads', { json: { key: 'x.bin', size: 10 } });
    const cross = await root.json('GET', `/buckets/other-bucket/uploads/${started.body.uploadId}`);
    expect(cross.status).toBe(404);
  });

  it('puts a small file in one request, guessing the type as offload sync does when none is sent', async () => {
    const css = await root.json('PUT', '/buckets/uploads/put?key=site/style.css', { body: new TextEncoder().encode('body{}') });
    expect(css.status).toBe(201);
    expect(css.body.contentType).toBe('text/css; charset=utf-8');
    const font = await root.json('PUT', '/buckets/uploads/put?key=fonts/a.woff2&public=1', { body: new Uint8Array([1, 2, 3]), headers: { 'content-type': 'application/octet-stream' } });
    expect(font.body).toMatchObject({ contentType: 'font/woff2', public: true });
  });
});
