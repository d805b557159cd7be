/**
 * `node bench/s3-blobs.js [N] [conc]`: the S3 blob backend (`--blobs s3://...`) against Ceph's RADOS
 * gateway. Blob write and read p50 of this build's backend (and of a baseline checkout's, when
 * OFFLOAD_BASELINE=/path/to/checkout has a dist/), interleaved with the same request pre-signed and
 * sent by plain node:http (keep-alive) in the same run: the peer the ratios are taken against.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { S3Client, PutObjectCommand, GetObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startCeph } from './infra.js';
import { ROOT } from './peers.js';

const [nArg = '200', concArg = '16'] = process.argv.slice(2);
const N = Number(nArg), CONC = Number(concArg);
const SIZE = 80 * 1024;
const baseline = process.env.OFFLOAD_BASELINE;
const variants = { after: pathToFileURL(join(ROOT, 'dist/storage/blob-backends/open.js')).href };
if (baseline) variants.before = pathToFileURL(join(baseline, 'dist/storage/blob-backends/open.js')).href;

const peer = await startCeph();
const client = new S3Client({ endpoint: peer.endpoint, region: peer.region, forcePathStyle: true, credentials: { accessKeyId: peer.accessKeyId, secretAccessKey: peer.secretAccessKey }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
await client.send(new CreateBucketCommand({ Bucket: 'prof' }));
const url = `s3://prof/p/?${new URLSearchParams({ endpoint: peer.endpoint, region: peer.region, forcePathStyle: 'true', accessKeyId: peer.accessKeyId, secretAccessKey: peer.secretAccessKey, orphanGraceMs: '3600000' })}`;
const backends = {};
for (const [name, path] of Object.entries(variants)) backends[name] = (await import(path)).openBlobStorage(url);

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
function raw(method, u, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(u, { method, agent, headers: body ? { 'content-length': body.length } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 || res.statusCode === 206 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${method} ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const body = randomBytes(SIZE);
const chunksOf = () => Readable.from(Array.from({ length: Math.ceil(SIZE / 65536) }, (_, i) => body.subarray(i * 65536, (i + 1) * 65536)));
const preKeys = Array.from({ length: 2 * N + 40 }, (_, i) => `raw/${i}`);
const putUrls = await Promise.all(preKeys.map((k) => getSignedUrl(client, new PutObjectCommand({ Bucket: 'prof', Key: k }), { expiresIn: 3600 })));
const getUrls = await Promise.all(preKeys.map((k) => getSignedUrl(client, new GetObjectCommand({ Bucket: 'prof', Key: k }), { expiresIn: 3600 })));
const ids = { before: [], after: [] };
let phase = 0;

const ops = {
  ...(baseline && { 'write before': async () => ids.before.push((await backends.before.write(chunksOf())).id) }),
  'write after': async () => ids.after.push((await backends.after.write(chunksOf())).id),
  'presigned PUT': async (i) => raw('PUT', putUrls[phase + i], body),
};
const readOps = {
  ...(baseline && { 'read before': async (i) => { const b = await backends.before.readRange(ids.before[i], { start: 0, end: SIZE - 1 }); if (b.length !== SIZE) throw new Error('short'); } }),
  'read after': async (i) => { const b = await backends.after.readRange(ids.after[i], { start: 0, end: SIZE - 1 }); if (b.length !== SIZE) throw new Error('short'); },
  'stream after': async (i) => { let n = 0; for await (const c of backends.after.readStream(ids.after[i], { start: 0, end: SIZE - 1 })) n += c.length; if (n !== SIZE) throw new Error('short'); },
  'presigned GET': async (i) => { const b = await raw('GET', getUrls[i]); if (b.length !== SIZE) throw new Error('short'); },
};
const p50 = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
async function sequential(set, n) {
  const t = Object.fromEntries(Object.keys(set).map((k) => [k, []]));
  for (let i = 0; i < n; i++) for (const [k, op] of Object.entries(set)) { const s = process.hrtime.bigint(); await op(i); t[k].push(Number(process.hrtime.bigint() - s) / 1e6); }
  return t;
}
async function concurrent(op, n, conc) {
  let next = 0; const s = Date.now();
  await Promise.all(Array.from({ length: conc }, async () => { while (next < n) await op(next++); }));
  return n / ((Date.now() - s) / 1000);
}
// warm-up (connections, JIT)
await sequential(ops, 20); await sequential(readOps, 20);
for (const k of Object.keys(ids)) ids[k].length = 0;
const w = await sequential(ops, N);
const r = await sequential(readOps, N);
const out = [`load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}; N=${N}, ${SIZE} B bodies, sequential, interleaved`];
for (const [k, v] of Object.entries(w)) out.push(`${k.padEnd(16)} p50 ${p50(v).toFixed(2)} ms  ratio to presigned PUT ${(p50(v) / p50(w['presigned PUT'])).toFixed(2)}`);
for (const [k, v] of Object.entries(r)) out.push(`${k.padEnd(16)} p50 ${p50(v).toFixed(2)} ms  ratio to presigned GET ${(p50(v) / p50(r['presigned GET'])).toFixed(2)}`);
if (CONC > 0) {
  const M = N; phase = N + 20;
  const tp = {};
  for (const k of Object.keys(ops)) { ids.before.length = ids.after.length = 0; tp[k] = await concurrent(ops[k], M, CONC); }
  for (const k of Object.keys(ops)) out.push(`${k.padEnd(16)} ${CONC} in flight: ${tp[k].toFixed(0)}/s  ratio to presigned ${(tp[k] / tp['presigned PUT']).toFixed(2)}`);
}
out.push(`load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
console.log(out.join('\n'));
await peer.stop();
process.exit(0);
