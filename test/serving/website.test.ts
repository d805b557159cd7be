/** A small static site through the website endpoint: index documents, error pages, redirects, a CNAME bucket. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { CreateBucketCommand, PutBucketPolicyCommand, PutBucketWebsiteCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';

let server: TestServer;
let s3: S3Client;

/** A GET or HEAD on the website port with a chosen Host (fetch cannot set Host). */
function web(host: string, path: string, method = 'GET'): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.websitePort, path, method, headers: { Host: host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const publicPolicy = (bucket: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'PublicReadGetObject', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] });

async function site(bucket: string, files: Record<string, [string, string]>) {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const [key, [body, type]] of Object.entries(files)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: type }));
  await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy(bucket) }));
}

beforeAll(async () => {
  server = await startServer({ args: ['--website-port', '0'] });
  s3 = sdkClient(server);
  await site('docs', {
    'index.html': ['<h1>home</h1>', 'text/html'],
    'guide/index.html': ['<h1>guide</h1>', 'text/html'],
    'css/site.css': ['body{}', 'text/css'],
    '404.html': ['<h1>not here</h1>', 'text/html'],
    'old-page.html': ['', 'text/html'],
  });
  await s3.send(new PutObjectCommand({ Bucket: 'docs', Key: 'moved.html', Body: '', ContentType: 'text/html', WebsiteRedirectLocation: '/guide/' }));
  await s3.send(new PutBucketWebsiteCommand({
    Bucket: 'docs',
    WebsiteConfiguration: {
      IndexDocument: { Suffix: 'index.html' },
      ErrorDocument: { Key: '404.html' },
      RoutingRules: [
        { Condition: { KeyPrefixEquals: 'blog/' }, Redirect: { ReplaceKeyPrefixWith: 'news/', HttpRedirectCode: '301' } },
        { Condition: { HttpErrorCodeReturnedEquals: '404', KeyPrefixEquals: 'images/' }, Redirect: { HostName: 'img.example.com', ReplaceKeyPrefixWith: '' } },
      ],
    },
  }));
  await site('media.example.com', { 'index.html': ['<h1>cname</h1>', 'text/html'] });
  await s3.send(new PutBucketWebsiteCommand({ Bucket: 'media.example.com', WebsiteConfiguration: { IndexDocument: { Suffix: 'index.html' } } }));
  await s3.send(new CreateBucketCommand({ Bucket: 'old-site' }));
  await s3.send(new PutBucketWebsiteCommand({ Bucket: 'old-site', WebsiteConfiguration: { RedirectAllRequestsTo: { HostName: 'www.example.com', Protocol: 'https' } } }));
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const docs = 'docs.localhost';

describe('website endpoint', () => {
  it('serves index documents for the root and for folders', async () => {
    const home = await web(docs, '/');
    expect(home.status).toBe(200);
    expect(home.body).toBe('<h1>home</h1>');
    expect(home.headers['content-type']).toBe('text/html');
    expect((await web(docs, '/guide/')).body).toBe('<h1>guide</h1>');
    expect((await web(docs, '/css/site.css')).headers['content-type']).toBe('text/css');
  });

  it('redirects a folder without its slash when its index exists', async () => {
    const res = await web(docs, '/guide');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/guide/');
  });

  it('serves the error document with status 404, and an HTML page when there is none', async () => {
    const missing = await web(docs, '/nope.html');
    expect(missing.status).toBe(404);
    expect(missing.body).toBe('<h1>not here</h1>');
    const noSite = await web('media.example.com', '/nope.html');
    expect(noSite.status).toBe(404);
    expect(noSite.headers['content-type']).toMatch(/text\/html/);
    expect(noSite.body).toContain('404 Not Found');
  });

  it('follows routing rules and object redirects', async () => {
    const blog = await web(docs, '/blog/2024/post.html');
    expect(blog.status).toBe(301);
    expect(blog.headers.location).toBe(`http://${docs}/news/2024/post.html`);
    const img = await web(docs, '/images/logo.png');
    expect(img.headers.location).toBe('http://img.example.com/logo.png');
    const moved = await web(docs, '/moved.html');
    expect(moved.status).toBe(301);
    expect(moved.headers.location).toBe('/guide/');
    const all = await web('old-site.localhost', '/a/b?x=1');
    expect(all.status).toBe(301);
    expect(all.headers.location).toBe('https://www.example.com/a/b?x=1');
  });

  it('answers a custom domain by the bucket named like the host', async () => {
    const res = await web('media.example.com', '/');
    expect(res.status).toBe(200);
    expect(res.body).toBe('<h1>cname</h1>');
  });

  it('allows only GET and HEAD, and keeps the S3 API port answering as S3', async () => {
    expect((await web(docs, '/index.html', 'HEAD')).status).toBe(200);
    expect((await web(docs, '/index.html', 'DELETE')).status).toBe(405);
    const api = await fetch(`${server.endpoint}/docs/nope.html`);
    expect(api.headers.get('content-type')).toBe('application/xml');
  });
});
