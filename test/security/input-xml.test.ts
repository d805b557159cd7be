/**
 * Every operation that takes an XML (or JSON) body, fed malformed, oversized and
 * entity-expanding documents: each answers its exact S3 error, quickly, and the server lives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { CreateBucketCommand, CreateMultipartUploadCommand, GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { expectAlive, expectError, signed, startHarness, type Harness } from './input-harness.js';

let h: Harness;
const bucket = 'xml-target';
let uploadId: string;

beforeAll(async () => {
  h = await startHarness();
  await h.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await h.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'obj.txt', Body: 'x' }));
  uploadId = (await h.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'up.bin' }))).UploadId!;
});
afterAll(async () => {
  await h?.stop();
});

interface XmlOp {
  name: string;
  method: string;
  path: () => string;
  query: () => Record<string, string>;
  root: string;
  /** The error a document this operation cannot parse gets. */
  malformed: string;
}

const OPS: XmlOp[] = [
  { name: 'DeleteObjects', method: 'POST', path: () => `/${bucket}`, query: () => ({ delete: '' }), root: 'Delete', malformed: 'MalformedXML' },
  { name: 'CompleteMultipartUpload', method: 'POST', path: () => `/${bucket}/up.bin`, query: () => ({ uploadId }), root: 'CompleteMultipartUpload', malformed: 'MalformedXML' },
  { name: 'PutBucketAcl', method: 'PUT', path: () => `/${bucket}`, query: () => ({ acl: '' }), root: 'AccessControlPolicy', malformed: 'MalformedACLError' },
  { name: 'PutObjectAcl', method: 'PUT', path: () => `/${bucket}/obj.txt`, query: () => ({ acl: '' }), root: 'AccessControlPolicy', malformed: 'MalformedACLError' },
  { name: 'PutObjectTagging', method: 'PUT', path: () => `/${bucket}/obj.txt`, query: () => ({ tagging: '' }), root: 'Tagging', malformed: 'MalformedXML' },
  { name: 'PutBucketTagging', method: 'PUT', path: () => `/${bucket}`, query: () => ({ tagging: '' }), root: 'Tagging', malformed: 'MalformedXML' },
  { name: 'PutBucketCors', method: 'PUT', path: () => `/${bucket}`, query: () => ({ cors: '' }), root: 'CORSConfiguration', malformed: 'MalformedXML' },
  { name: 'PutBucketWebsite', method: 'PUT', path: () => `/${bucket}`, query: () => ({ website: '' }), root: 'WebsiteConfiguration', malformed: 'MalformedXML' },
  { name: 'PutBucketLogging', method: 'PUT', path: () => `/${bucket}`, query: () => ({ logging: '' }), root: 'BucketLoggingStatus', malformed: 'MalformedXML' },
  { name: 'PutBucketOwnershipControls', method: 'PUT', path: () => `/${bucket}`, query: () => ({ ownershipControls: '' }), root: 'OwnershipControls', malformed: 'MalformedXML' },
  { name: 'PutPublicAccessBlock', method: 'PUT', path: () => `/${bucket}`, query: () => ({ publicAccessBlock: '' }), root: 'PublicAccessBlockConfiguration', malformed: 'MalformedXML' },
  { name: 'CreateBucket', method: 'PUT', path: () => '/xml-new-bucket', query: () => ({}), root: 'CreateBucketConfiguration', malformed: 'MalformedXML' },
];

/** Sent with a correct Content-MD5 (DeleteObjects requires one), so only the document is wrong. */
function send(op: XmlOp, body: string | Buffer) {
  const md5 = createHash('md5').update(body).digest('base64');
  return signed(h, op.method, op.path(), { query: op.query(), headers: { 'content-md5': md5 }, body });
}

const billionLaughs = (root: string) => {
  const levels = ['<!ENTITY lol0 "lol">'];
  for (let i = 1; i <= 9; i++) levels.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
  return `<?xml version="1.0"?><!DOCTYPE ${root} [${levels.join('')}]><${root}><Value>&lol9;</Value></${root}>`;
};
const externalEntity = (root: string) => `<?xml version="1.0"?><!DOCTYPE ${root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><${root}><Value>&xxe;</Value></${root}>`;
const parameterEntity = (root: string) => `<?xml version="1.0"?><!DOCTYPE ${root} [<!ENTITY % remote SYSTEM "http://127.0.0.1:1/x.dtd">%remote;]><${root}/>`;

describe.each(OPS)('$name', (op) => {
  it('malformed XML', async () => {
    await expectError(send(op, `<${op.root}><Unclosed>`), 400, op.malformed);
    await expectError(send(op, '<<<not xml'), 400, op.malformed);
  });

  it('a document over the size limit (4.5 MB) is 400 MaxMessageLengthExceeded', async () => {
    const big = `<${op.root}>${'<Pad>x</Pad>'.repeat(400_000)}</${op.root}>`;
    await expectError(send(op, big), 400, 'MaxMessageLengthExceeded');
  });

  it('billion laughs, external and parameter entities are refused unexpanded', async () => {
    for (const body of [billionLaughs(op.root), externalEntity(op.root), parameterEntity(op.root)]) {
      const res = await send(op, body);
      expect({ status: res.status, code: /<Code>([^<]+)</.exec(res.body)?.[1] }).toEqual({ status: 400, code: op.malformed });
      expect(res.body).not.toContain('root:');
      expect(res.body).not.toContain('lollol');
    }
  });
});

describe('documents that parse but break the schema', () => {
  it('PutObjectTagging with a billion-laughs-sized tag value never stores it', async () => {
    const tags = await h.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 'obj.txt' }));
    expect(tags.TagSet).toEqual([]);
  });

  it('a wrong root element is MalformedXML (MalformedACLError for ACLs)', async () => {
    for (const op of OPS) {
      const res = await send(op, '<Wrong><Root/></Wrong>');
      expect({ op: op.name, status: res.status, code: /<Code>([^<]+)</.exec(res.body)?.[1] }).toEqual({ op: op.name, status: 400, code: op.malformed });
    }
  });
});

describe('PutBucketPolicy (JSON)', () => {
  const policyOp = (body: string | Buffer) => signed(h, 'PUT', `/${bucket}`, { query: { policy: '' }, body });

  it('malformed JSON is 400 MalformedPolicy', async () => {
    await expectError(policyOp('{"Version": "2012-10-17", "Statement": ['), 400, 'MalformedPolicy');
    await expectError(policyOp('not json at all'), 400, 'MalformedPolicy');
  });

  it('deeply nested JSON is 400 MalformedPolicy, not a stack overflow', async () => {
    await expectError(policyOp(`${'['.repeat(10_000)}${']'.repeat(10_000)}`), 400, 'MalformedPolicy');
  });

  it('a policy over 20 KB (and over 1 MB) is 400 MaxMessageLengthExceeded', async () => {
    const statement = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` };
    const big = JSON.stringify({ Version: '2012-10-17', Statement: Array.from({ length: 400 }, () => statement) });
    await expectError(policyOp(big), 400, 'MaxMessageLengthExceeded');
    await expectError(policyOp(Buffer.alloc(1_100_000, 0x20)), 400, 'MaxMessageLengthExceeded');
  });

  it('the server is alive and its log has no stack traces', async () => {
    await expectAlive(h, bucket);
    expect(h.log()).not.toMatch(/\n\s+at /);
  });
});
