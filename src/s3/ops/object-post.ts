/**
 * PostObject: the browser form upload (`POST /bucket`, multipart/form-data). The fields before
 * the `file` part are read (small), checked against the signed policy, and the file part's bytes
 * stream straight into the engine. Fields after the file are ignored, as S3 does.
 */
import { writtenVersionHeaders } from './versioning.js';
import { sseResponseHeaders } from '../sse/headers.js';
import { requestedEncryption } from '../sse/write.js';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import busboy from 'busboy';
import { S3Error } from '../../errors/s3-error.js';
import { refuseUnsupported } from '../unsupported.js';
import { newObjectOwner, requestedAclHeaders } from '../access/public-access-controls.js';
import { emptyReply, type Handler, type RequestContext } from '../context.js';
import { header, isHeaderSafe, objectHeadersFromRequest } from '../headers.js';
import { el, text } from '../xml.js';
import { bucketFor, requireBucket, storeCall } from './_common.js';
import { MAX_PUT_SIZE, validateKey } from './object-put.js';
import { parseTaggingXml } from './tagging.js';
import { checkPolicy, parsePolicy, verifyFormSignature, type FormFields } from './post-policy.js';
import { checksumRequestFromHeaders } from '../../auth/index.js';
import { createHasher, type Hasher } from '../../auth/checksums.js';
import type { ChecksumRequest } from '../../auth/types.js';
import type { BucketInfo, ChecksumAlgorithm, ObjectMeta } from '../../storage/types.js';

/** All fields before the file together (S3 allows 20 KB; a little more room here). */
const MAX_PRE_DATA = 64 * 1024;
/** Forms up to this size are read to the end before an error answer. */
const DRAIN_LIMIT = 16 * 1024 * 1024;

type PostContext = RequestContext<{ op: 'PostObject'; bucket: string }>;

interface Form {
  fields: FormFields;
  file?: { filename: string; stream: Readable };
}

export const postObject: Handler<'PostObject'> = async (ctx) => {
  const bucketName = ctx.op.bucket;
  let fields: FormFields = new Map();
  let file: Form['file'];
  let meta: ObjectMeta;
  try {
    const bucket = requireBucket(ctx);
    const form = await readForm(ctx.req);
    ({ fields, file } = form);
    if (!file) throw new S3Error('InvalidArgument', 'POST requires exactly one file upload per request.', { ArgumentName: 'file', ArgumentValue: '0' });
    meta = await store(ctx, bucket, fields, file);
  } catch (err) {
    await drain(ctx.req, file?.stream);
    throw err;
  }
  const key = meta.key;
  const etag = meta.etag.startsWith('"') ? meta.etag : `"${meta.etag}"`;
  const replyHeaders: Record<string, string> = { ETag: etag, ...writtenVersionHeaders(meta), ...sseResponseHeaders(meta.sse) };
  if (meta.checksum) replyHeaders[`x-amz-checksum-${meta.checksum.algorithm.toLowerCase()}`] = meta.checksum.value;
  const redirect = fields.get('success_action_redirect') ?? fields.get('redirect');
  if (redirect !== undefined && isHttpUrl(redirect)) {
    const params = new URLSearchParams({ bucket: bucketName, key, etag }).toString().replaceAll('+', '%20');
    return emptyReply(303, { ...replyHeaders, Location: `${redirect}${redirect.includes('?') ? '&' : '?'}${params}` });
  }
  const status = fields.get('success_action_status');
  if (status === '200') return emptyReply(200, replyHeaders);
  if (status === '201') {
    const location = objectUrl(header(ctx.headers, 'host') ?? 'localhost', bucketName, key);
    // S3 writes this document without its namespace (clients look up bare element names).
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n${el('PostResponse', text('Location', location), text('Bucket', bucketName), text('Key', key), text('ETag', etag))}`;
    return { status: 201, headers: { ...replyHeaders, 'Content-Type': 'application/xml', Location: location }, body: xml };
  }
  return emptyReply(204, replyHeaders);
};

/** Checks the form's signature, policy and access, then streams the file into the engine. */
async function store(ctx: PostContext, bucket: BucketInfo, fields: FormFields, file: NonNullable<Form['file']>): Promise<ObjectMeta> {
  const bucketName = bucket.name;
  const rawKey = fields.get('key');
  if (rawKey === undefined) {
    throw new S3Error('InvalidArgument', "Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.", { ArgumentName: 'key', ArgumentValue: '' });
  }
  const key = rawKey.replaceAll('${filename}', file.filename);
  if (key === '') throw new S3Error('InvalidArgument', 'User key must have a length greater than 0.', { ArgumentName: 'key', ArgumentValue: '' });
  validateKey(key);

  const { principal, policy: policyText } = verifyFormSignature(fields, ctx.lookup, ctx.principal);
  let range: { min: number; max: number } | undefined;
  if (policyText !== undefined) {
    const policy = parsePolicy(policyText);
    checkPolicy(policy, new Map(fields).set('key', key), bucketName);
    range = policy.lengthRange;
  }
  // The form's signer is the caller: the same access check as PutObject, for this key.
  bucketFor({ ...ctx, principal, op: { ...ctx.op, key } }, 'WRITE');

  // The fields are the request headers of a PUT, by another name.
  const asHeaders: IncomingHttpHeaders = Object.fromEntries(fields);
  if (fields.has('acl')) asHeaders['x-amz-acl'] = fields.get('acl');
  refuseUnsupported('PostObject', asHeaders, new URLSearchParams());
  const headers = objectHeadersFromRequest(asHeaders);
  const acl = requestedAclHeaders(ctx.store, bucketName, asHeaders) ?? { canned: 'private' };
  const tagging = fields.get('tagging');
  const tags = tagging === undefined || tagging.trim() === '' ? {} : parseTaggingXml(tagging);
  const checksum = checksumRequestFromHeaders(asHeaders);
  const encryption = requestedEncryption({ ...ctx, headers: asHeaders }, bucketName);
  const body = new FormBody(Math.min(range?.max ?? MAX_PUT_SIZE, MAX_PUT_SIZE), checksum);
  file.stream.on('error', (err) => body.destroy(err));
  file.stream.pipe(body);
  const owner = newObjectOwner(ctx.store, bucketName, principal.kind === 'user' ? principal.credential.owner : ctx.config.rootOwner.id, acl);
  return storeCall(ctx, () =>
    ctx.store.putObject({
      ...headers,
      bucket: bucketName,
      key,
      body,
      owner,
      acl,
      tags,
      encryption,
      beforeCommit: ({ size }) => {
        if (range && size < range.min) throw new S3Error('EntityTooSmall', undefined, { ProposedSize: String(size), MinSizeAllowed: String(range.min) });
      },
      get checksum() {
        return body.result ? { ...body.result, type: 'FULL_OBJECT' as const } : undefined;
      },
    }),
  );
}

/** A rejected form's remaining bytes are read (up to a limit) so the client can read the error before the connection closes. */
async function drain(req: IncomingMessage, file: Readable | undefined): Promise<void> {
  if (req.complete) return;
  await new Promise<void>((resolve) => {
    let read = 0;
    const count = (chunk: Buffer) => {
      read += chunk.length;
      if (read > DRAIN_LIMIT) done();
    };
    const done = () => {
      req.off('data', count);
      resolve();
    };
    req.on('data', count);
    req.once('end', done);
    req.once('close', done);
    // The file part holds the parser back until read; with no parser attached, read the request itself.
    if (file) file.resume();
    else req.resume();
  });
}

/** An http(s) URL that can go into a Location header as sent (URL parsing alone would forgive a CR/LF). */
function isHttpUrl(value: string): boolean {
  if (!isHeaderSafe(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function objectUrl(host: string, bucket: string, key: string): string {
  const path = key.split('/').map(encodeURIComponent).join('/');
  const virtual = host.toLowerCase().startsWith(`${bucket}.`);
  return virtual ? `http://${host}/${path}` : `http://${host}/${bucket}/${path}`;
}

/**
 * Reads the form up to the `file` part. Resolves with the fields and the file's byte stream
 * (not yet read), or with no file when the form ends without one.
 */
function readForm(req: IncomingMessage): Promise<Form> {
  const notMultipart = new S3Error('PreconditionFailed', 'Bucket POST must be of the enclosure-type multipart/form-data', { Condition: 'Bucket POST must be of the enclosure-type multipart/form-data' });
  if (!/^multipart\/form-data\s*;/i.test(header(req.headers, 'content-type') ?? '')) throw notMultipart;
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, limits: { fieldSize: MAX_PRE_DATA, fields: 1000, parts: 1000 } });
  } catch {
    throw notMultipart;
  }
  return new Promise<Form>((resolve, reject) => {
    const fields: FormFields = new Map();
    let preData = 0;
    let error: S3Error | undefined;
    let settled = false;
    let out: PassThrough | undefined;
    // Fields sent as file parts (with a filename) are read asynchronously: keep them in order.
    let pending: Promise<void> = Promise.resolve();
    const addField = (name: string, value: string | undefined) => {
      preData += name.length + (value?.length ?? MAX_PRE_DATA);
      if (value === undefined || preData > MAX_PRE_DATA) error ??= new S3Error('MaxPostPreDataLengthExceeded');
      const lower = name.toLowerCase();
      if (value !== undefined && !fields.has(lower)) fields.set(lower, value);
    };
    const settle = (file?: Form['file']) => {
      settled = true;
      void pending.then(() => (error ? reject(error) : resolve({ fields, file })));
    };
    const fail = (err: S3Error) => {
      if (out) out.destroy(err);
      else if (!settled) {
        settled = true;
        reject(err);
      }
      req.unpipe(parser);
      req.resume();
    };
    parser.on('field', (name, value, info) => {
      if (settled) return;
      pending = pending.then(() => addField(name, info.valueTruncated ? undefined : value));
    });
    parser.on('file', (name, stream, info) => {
      if (settled) {
        stream.resume();
        return;
      }
      if (name.toLowerCase() !== 'file') {
        const value = readSmall(stream);
        pending = pending.then(() => value).then((v) => addField(name, v));
        return;
      }
      out = new PassThrough();
      out.on('error', () => undefined); // the handler forwards errors; none may go unhandled
      stream.on('error', () => out?.destroy(new S3Error('IncompleteBody', 'The form ended inside the file.')));
      stream.pipe(out);
      settle({ filename: (info.filename ?? '').replace(/^.*[\\/]/, ''), stream: out });
    });
    parser.on('error', () => fail(new S3Error('MalformedPOSTRequest')));
    parser.on('close', () => {
      if (!settled) settle();
    });
    req.on('error', () => fail(new S3Error('IncompleteBody', 'The request body ended early (connection closed).')));
    req.on('close', () => {
      if (!req.complete) fail(new S3Error('IncompleteBody', 'The request body ended early (connection closed).'));
    });
    req.pipe(parser);
  });
}

/** A small part's text, or undefined when it is over the limit. */
async function readSmall(stream: Readable): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > MAX_PRE_DATA) {
      stream.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The file's bytes on their way to the engine: size limit and the form's checksum, checked while they stream. */
class FormBody extends Transform {
  result: { algorithm: ChecksumAlgorithm; value: string } | undefined;
  private size = 0;
  private readonly hasher: Hasher | undefined;

  constructor(private readonly max: number, private readonly checksum: ChecksumRequest | undefined) {
    super();
    this.hasher = checksum ? createHasher(checksum.algorithm) : undefined;
    // The engine attaches after an await: until then an error stays stored on the stream.
    this.on('error', () => undefined);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.max) {
      callback(new S3Error('EntityTooLarge', undefined, { MaxSizeAllowed: String(this.max) }));
      return;
    }
    this.hasher?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.hasher && this.checksum) {
      const value = this.hasher.digest().toString('base64');
      if (this.checksum.expected !== undefined && this.checksum.expected !== value) {
        callback(new S3Error('BadDigest', `The ${this.checksum.algorithm} you specified did not match the calculated checksum.`));
        return;
      }
      this.result = { algorithm: this.checksum.algorithm, value };
    }
    callback();
  }
}
