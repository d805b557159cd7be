/**
 * /_offload/metrics end to end: the exposition is parsed with a strict Prometheus text-format
 * parser (below), and a known mix of requests must move the counters by exactly that much.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { signedGet } from '../../src/cli/commands/stats.js';

// ---- a strict parser of the Prometheus text exposition format (0.0.4)

type Labels = Record<string, string>;
interface Sample { name: string; labels: Labels; value: number }
interface Exposition { types: Map<string, string>; samples: Sample[]; get(name: string, labels?: Labels): number | undefined }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

function parseValue(text: string, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`bad value in: ${line}`);
  return Number(text);
}

function parseLabels(text: string, line: string): Labels {
  const labels: Labels = {};
  let i = 0;
  while (i < text.length) {
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(text.slice(i));
    if (!m) throw new Error(`bad label in: ${line}`);
    i += m[0].length;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
      i++;
      if (c === '"') break;
      if (c === '\\') {
        const e = text[i++];
        if (e === 'n') value += '\n';
        else if (e === '\\' || e === '"') value += e;
        else throw new Error(`bad escape in: ${line}`);
      } else value += c;
    }
    if (m[1]! in labels) throw new Error(`duplicate label ${m[1]} in: ${line}`);
    labels[m[1]!] = value;
    if (text[i] === ',') i++;
    else if (i !== text.length) throw new Error(`expected , in: ${line}`);
  }
  return labels;
}

function familyOf(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
    if (base !== undefined && types.get(base) === 'histogram') return base;
  }
  return undefined;
}

function parsePrometheus(text: string): Exposition {
  if (!text.endsWith('\n')) throw new Error('exposition must end with a line feed');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  const seen = new Set<string>();
  const series = (name: string, labels: Labels) => `${name}{${Object.keys(labels).sort().map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') throw new Error('empty line');
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (!m) throw new Error(`bad comment: ${line}`);
      if (!NAME.test(m[2]!)) throw new Error(`bad metric name: ${line}`);
      if (m[1] === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]!)) throw new Error(`bad type: ${line}`);
        if (types.has(m[2]!)) throw new Error(`TYPE given twice: ${line}`);
        if (samples.some((s) => familyOf(s.name, new Map([[m[2]!, m[3]!]])) !== undefined)) throw new Error(`TYPE after samples: ${line}`);
        types.set(m[2]!, m[3]!);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`bad sample: ${line}`);
    const sample = { name: m[1]!, labels: parseLabels(m[2] ?? '', line), value: parseValue(m[3]!, line) };
    const family = familyOf(sample.name, types);
    if (family === undefined) throw new Error(`sample without TYPE: ${line}`);
    if (types.get(family) === 'counter' && !(sample.value >= 0)) throw new Error(`negative counter: ${line}`);
    const key = series(sample.name, sample.labels);
    if (seen.has(key)) throw new Error(`duplicate series: ${line}`);
    seen.add(key);
    samples.push(sample);
  }
  // Histograms: cumulative buckets ending in +Inf, which equals _count.
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const groups = new Map<string, Sample[]>();
    for (const s of samples.filter((x) => x.name === `${family}_bucket`)) {
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`${family}_bucket without le`);
      const k = series(family, rest);
      groups.set(k, [...(groups.get(k) ?? []), s]);
    }
    for (const [k, buckets] of groups) {
      const bounds = buckets.map((b) => parseValue(b.labels.le!, k));
      if (bounds.some((b, i) => i > 0 && b <= bounds[i - 1]!)) throw new Error(`le not increasing in ${k}`);
      if (buckets.some((b, i) => i > 0 && b.value < buckets[i - 1]!.value)) throw new Error(`buckets not cumulative in ${k}`);
      if (bounds.at(-1) !== Infinity) throw new Error(`no +Inf bucket in ${k}`);
      const { le: _le, ...rest } = buckets[0]!.labels;
      const count = samples.find((s) => s.name === `${family}_count` && series(family, s.labels) === series(family, rest));
      if (count?.value !== buckets.at(-1)!.value) throw new Error(`${family}_count differs from the +Inf bucket in ${k}`);
    }
  }
  const index = new Map(samples.map((s) => [series(s.name, s.labels), s.value]));
  return { types, samples, get: (name, labels = {}) => index.get(series(name, labels)) };
}

// ---- the server

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let server: TestServer;
let s3: S3Client;
const body = Buffer.alloc(4096, 1);

beforeAll(async () => {
  server = await startServer({ args: ['--workers', '1'] });
  s3 = sdkClient(server);
  await s3.send(new CreateBucketCommand({ Bucket: 'metered' }));
  await s3.send(new PutObjectCommand({ Bucket: 'metered', Key: 'a.bin', Body: body }));
  const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::metered/*'] }] };
  await s3.send(new PutBucketPolicyCommand({ Bucket: 'metered', Policy: JSON.stringify(policy) }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

async function scrape(): Promise<Exposition> {
  const res = await signedGet({ endpoint: server.endpoint, region: server.region, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey }, '/_offload/metrics');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parsePrometheus(await res.text());
}

describe('GET /_offload/metrics', () => {
  it('moves the counters by exactly the requests made', async () => {
    await sleep(2500); // the set-up's requests are flushed: the baseline is stable
    const before = await scrape();
    const n = (e: Exposition, name: string, labels?: Labels) => e.get(name, labels) ?? 0;
    for (let i = 0; i < 4; i++) expect((await (await fetch(`${server.endpoint}/metered/a.bin`)).arrayBuffer()).byteLength).toBe(4096);
    for (let i = 0; i < 2; i++) await expect(s3.send(new GetObjectCommand({ Bucket: 'metered', Key: 'nope' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
    expect((await fetch(`${server.endpoint}/metered/a.bin`, { method: 'HEAD' })).status).toBe(200);
    const after = await scrape(); // the answering worker flushes first: no wait needed with one worker
    const delta = (name: string, labels?: Labels) => n(after, name, labels) - n(before, name, labels);

    expect(after.types.get('offload_requests_total')).toBe('counter');
    expect(after.types.get('offload_request_duration_seconds')).toBe('histogram');
    expect(delta('offload_requests_total', { op: 'GetObject', status: '200' })).toBe(4);
    expect(delta('offload_requests_total', { op: 'GetObject', status: '404' })).toBe(2);
    expect(delta('offload_requests_total', { op: 'HeadObject', status: '200' })).toBe(1);
    expect(delta('offload_requests_total', { op: 'PutObject', status: '200' })).toBe(0);
    const errorBytes = delta('offload_sent_bytes_total', { op: 'GetObject' }) - 4 * 4096;
    expect(errorBytes).toBeGreaterThan(0); // two NoSuchKey documents
    expect(errorBytes % 2).toBe(0);
    expect(delta('offload_sent_bytes_total', { op: 'HeadObject' })).toBe(0);
    expect(n(after, 'offload_received_bytes_total', { op: 'PutObject' })).toBe(4096);
    expect(delta('offload_request_duration_seconds_count', { op: 'GetObject' })).toBe(6);
    expect(delta('offload_request_duration_seconds_bucket', { op: 'GetObject', le: '+Inf' })).toBe(6);
    expect(delta('offload_request_duration_seconds_sum', { op: 'GetObject' })).toBeGreaterThan(0);
    expect(delta('offload_request_duration_seconds_bucket', { op: 'GetObject', le: '60' })).toBe(6);

    // Four reads of a small object: the first may miss the hot cache, the rest hit it.
    const lookups = delta('offload_cache_hits_total') + delta('offload_cache_misses_total');
    expect(lookups).toBeGreaterThanOrEqual(4);
    expect(delta('offload_cache_hits_total')).toBeGreaterThanOrEqual(3);
    const ratio = n(after, 'offload_cache_hit_ratio');
    expect(ratio).toBeGreaterThan(0);
    expect(ratio).toBeLessThanOrEqual(1);

    expect(n(after, 'offload_bucket_objects', { bucket: 'metered' })).toBe(1);
    expect(n(after, 'offload_bucket_bytes', { bucket: 'metered' })).toBe(4096);
  });

  it('needs the root signature unless OFFLOAD_METRICS_PUBLIC=1', async () => {
    const res = await fetch(`${server.endpoint}/_offload/metrics`);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('application/xml');
    expect(await res.text()).toContain('<Code>AccessDenied</Code>');
    const open = await startServer({ env: { OFFLOAD_METRICS_PUBLIC: '1' } });
    try {
      const scraped = await fetch(`${open.endpoint}/_offload/metrics`);
      expect(scraped.status).toBe(200);
      const e = parsePrometheus(await scraped.text());
      expect(e.types.get('offload_bucket_bytes')).toBe('gauge');
      // Stats stay private.
      expect((await fetch(`${open.endpoint}/_offload/stats/any`)).status).toBe(403);
    } finally {
      await open.stop();
    }
  });

  it('the parser is strict', () => {
    expect(() => parsePrometheus('x 1\n')).toThrow(/without TYPE/);
    expect(() => parsePrometheus('# TYPE x counter\nx{a="1} 1\n')).toThrow();
    expect(() => parsePrometheus('# TYPE x counter\nx 1\nx 2\n')).toThrow(/duplicate/);
    expect(() => parsePrometheus('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(parsePrometheus('# TYPE x gauge\nx{a="q\\"\\n\\\\"} 1.5e3\n').get('x', { a: 'q"\n\\' })).toBe(1500);
  });
});
