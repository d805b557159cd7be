/** Making a bucket public the modern way, CORS for fonts, ACL sub-resources, hosts, copies and batch deletes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf } from '../helpers/errors.js';
import {
  CopyObjectCommand, CreateBucketCommand, DeleteBucketPolicyCommand, DeleteObjectsCommand, GetBucketAclCommand, GetBucketCorsCommand,
  GetBucketPolicyCommand, GetBucketPolicyStatusCommand, GetObjectAclCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand,
  ListObjectsV2Command, PutBucketAclCommand, PutBucketCorsCommand, PutBucketPolicyCommand, PutObjectAclCommand, PutObjectCommand,
  PutObjectTaggingCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';

let server: TestServer;
let s3: S3Client;

beforeAll(async () => {
  server = await startServer();
  s3 = sdkClient(server);
});
afterAll(async () => {
  s3?.destroy();
  await server?.stop();
});

const anon = (path: string, init: RequestInit = {}) => fetch(`${server.endpoint}${path}`, init);

describe('bucket policy', () => {
  it('makes a bucket public with the policy AWS documents, and a Deny overrides it', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'site-media' }));
    await s3.send(new PutObjectCommand({ Bucket: 'site-media', Key: 'css/site.css', Body: 'body{}', ContentType: 'text/css' }));
    await s3.send(new PutObjectCommand({ Bucket: 'site-media', Key: 'private/report.pdf', Body: '%PDF', ContentType: 'application/pdf' }));
    expect((await anon('/site-media/css/site.css')).status).toBe(403);
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'PublicReadGetObject', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::site-media/*'] }],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'site-media', Policy: JSON.stringify(policy) }));
    const res = await anon('/site-media/css/site.css');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/css');
    expect((await anon('/site-media/private/report.pdf')).status).toBe(200);
    expect((await anon('/site-media')).status).toBe(403);
    expect((await anon('/site-media/css/x.css', { method: 'PUT', body: 'x' })).status).toBe(403);
    const status = await s3.send(new GetBucketPolicyStatusCommand({ Bucket: 'site-media' }));
    expect(status.PolicyStatus?.IsPublic).toBe(true);

    policy.Statement.push({ Sid: 'NoPrivate', Effect: 'Deny', Principal: '*', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::site-media/private/*'] });
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'site-media', Policy: JSON.stringify(policy) }));
    expect((await anon('/site-media/private/report.pdf')).status).toBe(403);
    expect((await anon('/site-media/css/site.css')).status).toBe(200);
    const stored = await s3.send(new GetBucketPolicyCommand({ Bucket: 'site-media' }));
    expect(JSON.parse(stored.Policy!)).toEqual(policy);

    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'site-media' }));
    expect((await anon('/site-media/css/site.css')).status).toBe(403);
    expect((await errorOf(s3.send(new GetBucketPolicyCommand({ Bucket: 'site-media' })))).name).toBe('NoSuchBucketPolicy');
  });

  it('refuses what it does not understand with MalformedPolicy naming it', async () => {
    const bad = { Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::site-media/*', Condition: { DateGreaterThan: { 'aws:CurrentTime': '2020-01-01T00:00:00Z' } } }] };
    const err = await errorOf(s3.send(new PutBucketPolicyCommand({ Bucket: 'site-media', Policy: JSON.stringify(bad) })));
    expect(err.name).toBe('MalformedPolicy');
    expect(err.message).toContain('DateGreaterThan');
  });
});

describe('CORS', () => {
  it('answers a browser preflight and adds headers to actual requests as configured', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'fonts', ACL: 'public-read' }));
    await s3.send(new PutObjectCommand({ Bucket: 'fonts', Key: 'inter.woff2', Body: 'wOF2', ContentType: 'font/woff2' }));
    const origin = 'https://www.example.com';
    expect((await anon('/fonts/inter.woff2', { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' } })).status).toBe(403);
    await s3.send(new PutBucketCorsCommand({
      Bucket: 'fonts',
      CORSConfiguration: { CORSRules: [
        { AllowedOrigins: ['https://*.example.com'], AllowedMethods: ['GET', 'HEAD'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 3000 },
        { AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
      ] },
    }));
    const cors = await s3.send(new GetBucketCorsCommand({ Bucket: 'fonts' }));
    expect(cors.CORSRules?.[0]?.AllowedOrigins).toEqual(['https://*.example.com']);
    const preflight = await anon('/fonts/inter.woff2', { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'Range' } });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET, HEAD');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('Range');
    expect(preflight.headers.get('access-control-max-age')).toBe('3000');
    expect(preflight.headers.get('vary')).toContain('Origin');
    const put = await anon('/fonts/inter.woff2', { method: 'OPTIONS', headers: { Origin: origin, 'Access-Control-Request-Method': 'PUT' } });
    expect(put.status).toBe(403);
    const actual = await anon('/fonts/inter.woff2', { headers: { Origin: origin } });
    expect(actual.status).toBe(200);
    expect(actual.headers.get('access-control-allow-origin')).toBe(origin);
    expect(actual.headers.get('access-control-expose-headers')).toBe('ETag');
    expect(actual.headers.get('vary')).toContain('Origin');
    const other = await anon('/fonts/inter.woff2', { headers: { Origin: 'https://elsewhere.test' } });
    expect(other.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('hosts', () => {
  it('answers virtual-hosted-style and custom-domain requests', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'media.example.com', ACL: 'public-read' }));
    await s3.send(new PutObjectCommand({ Bucket: 'media.example.com', Key: 'img/logo.png', Body: 'png', ContentType: 'image/png' }));
    const { request } = await import('node:http');
    const get = (host: string, path: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path, headers: { Host: host } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(await get('media.example.com', '/img/logo.png')).toEqual({ status: 200, body: 'png' });
    expect(await get(`media.example.com:${server.port}`, '/img/logo.png')).toEqual({ status: 200, body: 'png' });
    expect((await get('fonts.localhost', '/inter.woff2')).status).toBe(200);
    expect((await get('unknown.example.org', '/img/logo.png')).status).toBe(404);
  });
});

describe('ACL sub-resources', () => {
  it('reads and writes canned and explicit grants', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'acls' }));
    await s3.send(new PutObjectCommand({ Bucket: 'acls', Key: 'a.txt', Body: 'a' }));
    const bucketAcl = await s3.send(new GetBucketAclCommand({ Bucket: 'acls' }));
    expect(bucketAcl.Grants?.map((g) => g.Permission)).toEqual(['FULL_CONTROL']);
    expect((await anon('/acls/a.txt')).status).toBe(403);
    await s3.send(new PutObjectAclCommand({ Bucket: 'acls', Key: 'a.txt', ACL: 'public-read' }));
    expect((await anon('/acls/a.txt')).status).toBe(200);
    const objectAcl = await s3.send(new GetObjectAclCommand({ Bucket: 'acls', Key: 'a.txt' }));
    expect(objectAcl.Grants?.some((g) => g.Grantee?.URI === 'http://acs.amazonaws.com/groups/global/AllUsers' && g.Permission === 'READ')).toBe(true);
    await s3.send(new PutObjectAclCommand({ Bucket: 'acls', Key: 'a.txt', AccessControlPolicy: { Owner: objectAcl.Owner, Grants: [{ Grantee: { Type: 'CanonicalUser', ID: objectAcl.Owner!.ID }, Permission: 'FULL_CONTROL' }] } }));
    expect((await anon('/acls/a.txt')).status).toBe(403);
    await s3.send(new PutBucketAclCommand({ Bucket: 'acls', GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' }));
    expect((await anon('/acls')).status).toBe(200);
  });
});

describe('copies, tags and batch deletes', () => {
  it('copies within and across buckets, with COPY and REPLACE, and onto itself', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'copies' }));
    await s3.send(new PutObjectCommand({ Bucket: 'copies', Key: 'src.css', Body: 'a{}', ContentType: 'text/css', Metadata: { k: 'v' }, Tagging: 't=1' }));
    await s3.send(new CopyObjectCommand({ Bucket: 'copies', Key: 'copy.css', CopySource: 'copies/src.css' }));
    const copied = await s3.send(new HeadObjectCommand({ Bucket: 'copies', Key: 'copy.css' }));
    expect([copied.ContentType, copied.Metadata]).toEqual(['text/css', { k: 'v' }]);
    await s3.send(new CopyObjectCommand({ Bucket: 'acls', Key: 'from-other.css', CopySource: 'copies/src.css', MetadataDirective: 'REPLACE', ContentType: 'text/plain', CacheControl: 'no-cache' }));
    const replaced = await s3.send(new HeadObjectCommand({ Bucket: 'acls', Key: 'from-other.css' }));
    expect([replaced.ContentType, replaced.CacheControl, replaced.Metadata]).toEqual(['text/plain', 'no-cache', {}]);
    const self = await errorOf(s3.send(new CopyObjectCommand({ Bucket: 'copies', Key: 'src.css', CopySource: 'copies/src.css' })));
    expect(self.name).toBe('InvalidRequest');
    await s3.send(new CopyObjectCommand({ Bucket: 'copies', Key: 'src.css', CopySource: 'copies/src.css', MetadataDirective: 'REPLACE', ContentType: 'text/css; charset=utf-8', CacheControl: 'public, max-age=31536000, immutable' }));
    const updated = await s3.send(new GetObjectCommand({ Bucket: 'copies', Key: 'src.css' }));
    expect([updated.ContentType, updated.CacheControl, await updated.Body!.transformToString()]).toEqual(['text/css; charset=utf-8', 'public, max-age=31536000, immutable', 'a{}']);
    const failed = await errorOf(s3.send(new CopyObjectCommand({ Bucket: 'copies', Key: 'c2', CopySource: 'copies/src.css', CopySourceIfMatch: '"nope"' })));
    expect(failed.$metadata.httpStatusCode).toBe(412);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'copies', Key: 'copy.css' }));
    expect(tags.TagSet).toEqual([{ Key: 't', Value: '1' }]);
    await s3.send(new PutObjectTaggingCommand({ Bucket: 'copies', Key: 'copy.css', Tagging: { TagSet: [{ Key: 'env', Value: 'prod' }] } }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket: 'copies', Key: 'copy.css' }))).TagSet).toEqual([{ Key: 'env', Value: 'prod' }]);
  });

  it('deletes in batches with per-key results and Quiet mode', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'batch' }));
    const keys = Array.from({ length: 25 }, (_, i) => `f/${i} & ü.txt`);
    await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: 'batch', Key, Body: Key }))));
    const loud = await s3.send(new DeleteObjectsCommand({ Bucket: 'batch', Delete: { Objects: keys.slice(0, 10).map((Key) => ({ Key })) } }));
    expect(loud.Deleted?.map((d) => d.Key).sort()).toEqual(keys.slice(0, 10).sort());
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: 'batch', Delete: { Quiet: true, Objects: keys.slice(10).map((Key) => ({ Key })) } }));
    expect(quiet.Deleted ?? []).toEqual([]);
    expect(quiet.Errors ?? []).toEqual([]);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'batch' }))).KeyCount).toBe(0);
  });
});
