/** `/buckets`: list (with size, objects, public state), create, delete (or empty and delete), make public or private. */
import { badInput, ConsoleError } from './errors.js';
import type { ApiAnswer, SignedInCall } from './deps.js';
import { boolField, readJson, stringField } from './http.js';
import { child, children, childText, parseXml } from '../s3/xml.js';
import { runS3Text, s3Allows } from './s3-call.js';
import { bucketIsPublic, setBucketPublic } from './bucket-public.js';
import { escapeXml } from '../s3/xml.js';

export async function listBuckets(call: SignedInCall): Promise<ApiAnswer> {
  const listing = child(parseXml((await runS3Text(call, { method: 'GET' })).text), 'ListAllMyBucketsResult');
  const names = children(child(listing, 'Buckets'), 'Bucket').map((b) => ({ name: childText(b, 'Name') ?? '', created: childText(b, 'CreationDate') ?? '' }));
  const buckets = await Promise.all(names.map((b) => describeBucket(call, b.name, b.created)));
  return { body: { buckets } };
}

async function describeBucket(call: SignedInCall, name: string, created: string) {
  const [stored, isPublic, website] = await Promise.all([
    call.deps.stats()?.stored(name) ?? { objects: 0, bytes: 0 },
    bucketIsPublic(call, name),
    s3Allows(call, { method: 'GET', bucket: name, query: { website: '' } }),
  ]);
  return { name, created, objects: stored.objects, bytes: stored.bytes, public: isPublic, website };
}

export async function createBucket(call: SignedInCall): Promise<ApiAnswer> {
  const body = await readJson(call.req);
  const name = stringField(body, 'name', { max: 63 })!;
  const makePublic = boolField(body, 'public') ?? false;
  await runS3Text(call, { method: 'PUT', bucket: name });
  if (makePublic) await setBucketPublic(call, name, true);
  const bucket = call.deps.store.getBucket(name);
  return { status: 201, body: await describeBucket(call, name, new Date(bucket?.createdAt ?? Date.now()).toISOString()) };
}

export async function deleteBucket(call: SignedInCall): Promise<ApiAnswer> {
  const bucket = call.params.bucket!;
  if (call.query.get('empty') === '1') {
    const body = await readJson(call.req);
    if (stringField(body, 'confirm', { optional: true, max: 63 }) !== bucket) throw badInput(`To empty and delete the bucket, type its name (${bucket}) to confirm.`);
    await emptyBucket(call, bucket);
  }
  await runS3Text(call, { method: 'DELETE', bucket });
  return { body: { deleted: bucket } };
}

/** Deletes every object, a thousand per DeleteObjects, and aborts unfinished uploads. */
async function emptyBucket(call: SignedInCall, bucket: string): Promise<void> {
  for (;;) {
    const page = child(parseXml((await runS3Text(call, { method: 'GET', bucket, query: { 'list-type': '2', 'max-keys': '1000' } })).text), 'ListBucketResult');
    const keys = children(page, 'Contents').map((c) => childText(c, 'Key') ?? '');
    if (keys.length === 0) break;
    const doc = `<Delete><Quiet>true</Quiet>${keys.map((k) => `<Object><Key>${escapeXml(k)}</Key></Object>`).join('')}</Delete>`;
    const result = child(parseXml((await runS3Text(call, { method: 'POST', bucket, query: { delete: '' }, body: doc })).text), 'DeleteResult');
    const failed = children(result, 'Error');
    if (failed.length > 0) throw new ConsoleError(403, childText(failed[0], 'Code') ?? 'AccessDenied', `Could not delete ${failed.length} object(s), for example ${childText(failed[0], 'Key') ?? ''}: ${childText(failed[0], 'Message') ?? ''}`);
  }
  const uploads = child(parseXml((await runS3Text(call, { method: 'GET', bucket, query: { uploads: '' } })).text), 'ListMultipartUploadsResult');
  for (const u of children(uploads, 'Upload')) {
    await runS3Text(call, { method: 'DELETE', bucket, key: childText(u, 'Key') ?? '', query: { uploadId: childText(u, 'UploadId') ?? '' } });
  }
}

export async function setPublic(call: SignedInCall): Promise<ApiAnswer> {
  const body = await readJson(call.req);
  const wanted = boolField(body, 'public');
  if (wanted === undefined) throw badInput('"public" (true or false) is required.');
  const bucket = call.params.bucket!;
  await setBucketPublic(call, bucket, wanted);
  return { body: { name: bucket, public: await bucketIsPublic(call, bucket) } };
}
