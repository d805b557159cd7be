/**
 * The SSRF guard where it refuses: the address check itself (unit), origin configurations the
 * admin API refuses, and the connect-time check (a loopback listener that must see no
 * connection). No request here can leave the machine: refused addresses are never dialled.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { AddressGuard } from '../../src/origin/address-guard.js';
import { fetchOrigin } from '../../src/origin/fetcher.js';
import { parseOriginConfig } from '../../src/origin/config.js';
import { sdkClient } from '../helpers/clients.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { admin, errorCode, startOriginServer } from './_origin.js';

describe('address check', () => {
  const strict = new AddressGuard();
  it.each([
    '127.0.0.1', '127.8.9.10', '0.0.0.0', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '169.254.1.1', '100.64.0.1', '224.0.0.1', '255.255.255.255',
    '::1', '::', 'fe80::1', 'fd00:ec2::254', 'fc00::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:169.254.169.254', '64:ff9b::a9fe:a9fe',
  ])('refuses %s by default', (address) => {
    expect(strict.refusal(address, 80)).toBeDefined();
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111'])('allows the public address %s', (address) => {
    expect(strict.refusal(address, 443)).toBeUndefined();
  });

  it('lets the server flag allow what it names, and no more', () => {
    const guard = new AddressGuard({ serverAllow: ['127.0.0.1'] });
    expect(guard.refusal('127.0.0.1', 8080)).toBeUndefined();
    expect(guard.refusal('127.0.0.2', 8080)).toBeDefined();
    expect(guard.refusal('10.0.0.1', 8080)).toBeDefined();
    expect(guard.refusal('169.254.169.254', 80)).toBeDefined();
  });

  it('keeps metadata and link-local addresses out even with "private" or a bucket allow list, unless the server names them', () => {
    const guard = new AddressGuard({ serverAllow: ['private'] });
    expect(guard.refusal('10.1.2.3', 80)).toBeUndefined();
    expect(guard.refusal('169.254.169.254', 80)).toMatch(/metadata/);
    expect(guard.refusal('fe80::1', 80)).toBeDefined();
    expect(new AddressGuard().refusal('169.254.169.254', 80, ['169.254.0.0/16'])).toMatch(/metadata/);
    expect(new AddressGuard().refusal('10.9.9.9', 80, ['10.0.0.0/8'])).toBeUndefined();
    expect(new AddressGuard({ serverAllow: ['169.254.169.254'] }).refusal('169.254.169.254', 80)).toBeUndefined();
  });

  it("refuses the server's own listener even where its address is allowed", () => {
    const guard = new AddressGuard({ serverAllow: ['127.0.0.1'], ownListeners: () => [{ host: '127.0.0.1', port: 9000 }] });
    expect(guard.refusal('127.0.0.1', 9000)).toMatch(/own listener/);
    expect(guard.refusal('127.0.0.1', 9001)).toBeUndefined();
    const wildcard = new AddressGuard({ serverAllow: ['private'], ownListeners: () => [{ host: '0.0.0.0', port: 9000 }] });
    expect(wildcard.refusal('127.0.0.1', 9000)).toMatch(/own listener/);
  });

  it('refuses a host name by every address it resolves to (localhost is loopback)', async () => {
    await expect(strict.resolve('localhost', 80)).rejects.toThrow(/refused/);
  });
});

describe('connect-time refusal', () => {
  let listener: Server;
  let connections = 0;
  beforeAll(async () => {
    listener = createServer((_req, res) => res.end('should never be asked'));
    listener.on('connection', () => connections++);
    await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(() => new Promise((r) => listener.close(r)));

  it('does not connect when the address is refused at fetch time (say, a configuration stored before the guard)', async () => {
    const port = (listener.address() as { port: number }).port;
    const config = parseOriginConfig({ url: `http://127.0.0.1:${port}/` });
    await expect(fetchOrigin(new AddressGuard(), { config, key: 'x', method: 'GET', headers: {} })).rejects.toMatchObject({ kind: 'refused' });
    await expect(fetchOrigin(new AddressGuard(), { config: parseOriginConfig({ url: `http://localhost:${port}/` }), key: 'x', method: 'GET', headers: {} })).rejects.toMatchObject({ kind: 'refused' });
    expect(connections).toBe(0);
    const allowed = await fetchOrigin(new AddressGuard({ serverAllow: ['127.0.0.1'] }), { config, key: 'x', method: 'GET', headers: {} });
    allowed.body.resume();
    expect(allowed.status).toBe(200);
    expect(connections).toBe(1);
  });
});

describe('origin configurations the admin API refuses', () => {
  let plain: TestServer;
  let allowing: TestServer;
  beforeAll(async () => {
    [plain, allowing] = await Promise.all([startServer(), startOriginServer()]);
    for (const s of [plain, allowing]) {
      const client = sdkClient(s);
      await client.send(new CreateBucketCommand({ Bucket: 'media' }));
      client.destroy();
    }
  }, 60_000);
  afterAll(async () => {
    await plain?.stop();
    await allowing?.stop();
  });

  const put = async (server: TestServer, origin: unknown) => {
    const res = await admin(server, 'PUT', '/_offload/buckets/media/origin', origin);
    const text = await res.text();
    return { status: res.status, code: errorCode(text), text };
  };

  it.each([
    ['loopback', 'http://127.0.0.1:8080/'],
    ['localhost', 'http://localhost:8080/'],
    ['IPv6 loopback', 'http://[::1]:8080/'],
    ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/'],
    ['private network', 'http://10.1.2.3/'],
    ['metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['decimal loopback', 'http://2130706433/'],
  ])('refuses a %s origin on a server without --allow-private-origins', async (_name, url) => {
    expect(await put(plain, { url })).toMatchObject({ status: 400, code: 'InvalidArgument' });
    expect((await admin(plain, 'GET', '/_offload/buckets/media/origin')).status).toBe(400);
  });

  it('refuses an upstream S3 endpoint on a private address', async () => {
    expect(await put(plain, { s3: { endpoint: 'http://127.0.0.1:9000', bucket: 'assets' } })).toMatchObject({ status: 400, code: 'InvalidArgument' });
  });

  it('refuses, even with --allow-private-origins 127.0.0.1, the metadata address, other private ones and the server itself', async () => {
    expect(await put(allowing, { url: 'http://169.254.169.254/' })).toMatchObject({ status: 400, code: 'InvalidArgument' });
    expect(await put(allowing, { url: 'http://10.0.0.1/' })).toMatchObject({ status: 400, code: 'InvalidArgument' });
    const self = await put(allowing, { url: `http://127.0.0.1:${allowing.port}/` });
    expect(self).toMatchObject({ status: 400, code: 'InvalidArgument' });
    expect(self.text).toContain('own listener');
    expect(await put(allowing, { url: 'http://127.0.0.1:1/' })).toMatchObject({ status: 200 });
  });

  it('refuses non-HTTP schemes, credentials in the URL, and forwarding credential headers', async () => {
    expect(await put(allowing, { url: 'file:///etc/passwd' })).toMatchObject({ status: 400, code: 'InvalidArgument' });
    expect(await put(allowing, { url: 'http://user:pw@127.0.0.1:1/' })).toMatchObject({ status: 400, code: 'InvalidArgument' });
    expect(await put(allowing, { url: 'http://127.0.0.1:1/', forwardHeaders: ['Authorization'] })).toMatchObject({ status: 400, code: 'InvalidArgument' });
    expect(await put(allowing, { url: 'http://127.0.0.1:1/', forwardHeaders: ['cookie'] })).toMatchObject({ status: 400, code: 'InvalidArgument' });
    expect((await fetch(`${allowing.endpoint}/_offload/health`)).status).toBe(200);
  });

  it('needs the root signature', async () => {
    const res = await fetch(`${allowing.endpoint}/_offload/buckets/media/origin`, { method: 'PUT', body: '{"url":"http://127.0.0.1:1/"}' });
    expect(res.status).toBe(403);
    expect(errorCode(await res.text())).toBe('AccessDenied');
  });
});

describe('keys cannot leave the origin URL', () => {
  it('appends the key without resolving it: no other host, no path above the base', async () => {
    const { keyUrl } = await import('../../src/origin/fetcher.js');
    expect(keyUrl('https://app.example.com/media/', '//evil.example/x').href).toBe('https://app.example.com/media///evil.example/x');
    expect(keyUrl('https://app.example.com/media/', 'a b/c?d#e').href).toBe('https://app.example.com/media/a%20b/c%3Fd%23e');
    expect(keyUrl('https://app.example.com/media/', 'a\\..\\b').href).toBe('https://app.example.com/media/a%5C..%5Cb');
    expect(() => keyUrl('https://app.example.com/media/', '../admin')).toThrow(/segments/);
    expect(() => keyUrl('https://app.example.com/media/', 'img/./x')).toThrow(/segments/);
  });

  it('never fetches a dot-segment key from an upstream S3 (it would reach another upstream bucket with our key)', async () => {
    const config = parseOriginConfig({ s3: { endpoint: 'http://127.0.0.1:1', bucket: 'assets', accessKeyId: 'AK', secretAccessKey: 'SK' } });
    await expect(fetchOrigin(new AddressGuard({ serverAllow: ['127.0.0.1'] }), { config, key: '../private/secret', method: 'GET', headers: {} })).rejects.toMatchObject({ kind: 'refused' });
  });
});
