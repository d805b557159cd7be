/**
 * A configured limit does not turn off the fast path for repeated anonymous GETs (the
 * repeated-answer cache, s3/repeated-answer-cache.ts), and the fast path's answers are still
 * admitted and charged: over the anonymous rate 503 SlowDown with Retry-After, over the
 * bandwidth 503 SlowDown, a spent monthly budget 403. Which path answered is read from
 * offload_repeated_answers_total in /_offload/metrics (this process's fast-path answers).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { rawRequest, signRequest, toHttp } from '../helpers/raw.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function admin(s: TestServer, method: string, path: string, body?: string) {
  return rawRequest(s, toHttp(await signRequest(s, { method, path, body, headers: body ? { 'content-type': 'application/json' } : {} })));
}

/** A bucket `fast` with one public 1000-byte object, x.bin. */
async function publicObject(s: TestServer): Promise<void> {
  const s3 = sdkClient(s);
  await s3.send(new CreateBucketCommand({ Bucket: 'fast' }));
  await s3.send(new PutObjectCommand({ Bucket: 'fast', Key: 'x.bin', Body: Buffer.alloc(1000, 7), ACL: 'public-read', ContentType: 'application/octet-stream' }));
  s3.destroy();
}

async function metric(s: TestServer, pattern: RegExp): Promise<number> {
  const text = (await admin(s, 'GET', '/_offload/metrics')).body;
  const found = pattern.exec(text);
  if (!found) throw new Error(`no ${pattern} in the metrics`);
  return Number(found[1]);
}
const repeatedAnswers = (s: TestServer) => metric(s, /^offload_repeated_answers_total (\d+)$/m);
const throttled = (s: TestServer, reason: string) => metric(s, new RegExp(`^offload_throttled_requests_total\\{reason="${reason}"\\} (\\d+)$`, 'm'));

type Answer = { status: number; retryAfter: string | null; body: string };

/** `n` anonymous GETs of fast/x.bin one after another (the same headers each time). */
async function getInTurn(s: TestServer, n: number): Promise<Answer[]> {
  const out: Answer[] = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${s.endpoint}/fast/x.bin`);
    out.push({ status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.text() });
  }
  return out;
}

async function expectAlive(s: TestServer): Promise<void> {
  expect((await fetch(`${s.endpoint}/_offload/health`)).status).toBe(200);
}

describe('the fast path for repeated anonymous GETs, with limits configured', () => {
  it('answers repeats from the kept answer and still counts them against --anonymous-rps', async () => {
    server = await startServer({ args: ['--anonymous-rps', '4'] });
    await publicObject(server);
    const before = await repeatedAnswers(server);
    const answers = await getInTurn(server, 12);
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 503);
    expect(ok.length + refused.length).toBe(12);
    // The burst (4) and what refilled meanwhile; the first went the whole way, the others were repeats.
    expect(ok.length).toBeGreaterThanOrEqual(2);
    expect(ok.length).toBeLessThanOrEqual(8);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.body).toContain('<Code>SlowDown</Code>');
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    expect(await repeatedAnswers(server)).toBeGreaterThanOrEqual(before + 1);
    expect(await throttled(server, 'anonymous_rps')).toBe(refused.length);
    await expectAlive(server);
  }, 60_000);

  it('charges the kept answers\' bytes to --bandwidth', async () => {
    // 2000 bytes a second: each answer sends 1000, so a quick run of 20 overdraws the budget.
    server = await startServer({ args: ['--bandwidth', '2000'] });
    await publicObject(server);
    const before = await repeatedAnswers(server);
    const answers = await getInTurn(server, 20);
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 503);
    expect(ok.length + refused.length).toBe(20);
    expect(ok.length).toBeGreaterThanOrEqual(2);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]!.body).toContain('<Code>SlowDown</Code>');
    expect(Number(refused[0]!.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(await repeatedAnswers(server)).toBeGreaterThanOrEqual(before + 1);
    expect(await throttled(server, 'anonymous_bandwidth')).toBe(refused.length);
    await expectAlive(server);
  }, 60_000);

  it('counts the kept answers\' bytes in the monthly transfer budget, and refuses once it is spent', async () => {
    server = await startServer({ args: ['--anonymous-rps', '100000'] });
    await publicObject(server);
    expect((await admin(server, 'PUT', '/_offload/buckets/fast/limits', JSON.stringify({ monthlyTransfer: 3500, overBudget: 'refuse-anonymous' }))).status).toBe(200);
    const before = await repeatedAnswers(server);
    const answers = await getInTurn(server, 6);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 403, 403]);
    expect(answers[4]!.body).toContain('<Code>AccessDenied</Code>');
    // The first went the whole way; the next three (at least) were kept answers.
    expect(await repeatedAnswers(server)).toBeGreaterThanOrEqual(before + 3);
    expect(await metric(server, /^offload_bucket_transfer_month_bytes\{bucket="fast"\} (\d+)$/m)).toBe(4000);
    expect(await throttled(server, 'transfer_budget')).toBe(2);
    await expectAlive(server);
  }, 60_000);
});
