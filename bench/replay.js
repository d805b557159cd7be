// @ts-check
/**
 * Server-side PUT capacity: PutObject requests built and signed by @aws-sdk/client-s3 itself
 * (its whole middleware stack, SigV4 with the body's SHA-256, its default CRC32 checksum), kept
 * instead of sent, then replayed by wrk. The SDK's own CPU cost (about a core at 1,500 PUT/s
 * here) is paid before the clock starts, so the figure is the server's, not the client's.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { wrk } from './load.js';
import { ROOT } from './peers.js';

/**
 * Raw HTTP/1.1 requests for `count` PutObjects of `body` under `prefix/`, signed now (SigV4
 * accepts them for 15 minutes).
 * @param {{ url: string, accessKeyId: string, secretAccessKey: string }} server
 * @param {string} bucket @param {Buffer} body @param {number} count @param {string} prefix
 * @param {Partial<import('@aws-sdk/client-s3').S3ClientConfig>} [clientOptions] e.g. the checksum settings
 */
export async function signedPutRequests(server, bucket, body, count, prefix, clientOptions = {}) {
  /** @type {Buffer[]} */ const out = [];
  const capture = {
    /** @param {any} req */
    handle: async (req) => {
      const { hostname, port, path, query, headers, method } = req;
      const search = new URLSearchParams(query).toString();
      const lines = [`${method} ${path}${search ? `?${search}` : ''} HTTP/1.1`, `host: ${hostname}${port ? `:${port}` : ''}`];
      for (const [name, value] of Object.entries(headers)) {
        // wrk sends the body at once; a 100 Continue would read as the response.
        if (name.toLowerCase() === 'host' || name.toLowerCase() === 'expect') continue;
        lines.push(`${name}: ${value}`);
      }
      out.push(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), body]));
      return { response: { statusCode: 200, headers: { etag: '"x"' }, body: Readable.from([]) } };
    },
  };
  const client = new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestHandler: /** @type {any} */ (capture),
    ...clientOptions,
  });
  for (let i = 0; i < count; i++) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/${i}`, Body: body, ContentType: 'application/octet-stream' }));
  }
  client.destroy();
  return out;
}

/**
 * Replays the requests with wrk for `seconds` at `connections`.
 * @param {string} url @param {Buffer[]} requests @param {string} dir
 * @param {{ connections: number, seconds: number }} o
 */
export async function replay(url, requests, dir, o) {
  const file = join(dir, `replay-${Date.now()}.bin`);
  writeFileSync(file, Buffer.concat(requests.flatMap((r) => [Buffer.from(`${r.length}\n`), r])));
  try {
    // wrk hands arguments after `--` to the script's init().
    return await wrk(url, { ...o, script: join(ROOT, 'bench/replay.lua'), scriptArgs: [file] });
  } finally {
    rmSync(file, { force: true });
  }
}
