/** Object edits: Content-Type, Cache-Control and public state (PATCH), rename (copy + delete), delete many. */
import { badInput, ConsoleError } from './errors.js';
import type { ApiAnswer, SignedInCall } from './deps.js';
import { boolField, readJson, stringField } from './http.js';
import { child, children, childText, escapeXml, parseXml } from '../s3/xml.js';
import { encodeKey, runS3Text, s3Allows } from './s3-call.js';
import { objectIsPublic } from './bucket-public.js';
import { describeObject, requiredKey } from './api-objects.js';
import { CACHE_SOURCE_HEADER } from '../media/cache-rules.js';

/** Headers a metadata REPLACE must carry over, or the copy would drop them. */
const KEPT_HEADERS = ['Content-Disposition', 'Content-Encoding', 'Content-Language', 'Expires'];

export async function patchObject(call: SignedInCall): Promise<ApiAnswer> {
  const bucket = call.params.bucket!;
  const key = requiredKey(call);
  const body = await readJson(call.req);
  const contentType = stringField(body, 'contentType', { optional: true, max: 256 });
  const cacheControl = stringField(body, 'cacheControl', { optional: true, max: 1024 });
  const makePublic = boolField(body, 'public');
  if (contentType !== undefined || cacheControl !== undefined) {
    const head = (await runS3Text(call, { method: 'HEAD', bucket, key })).headers ?? {};
    const headers: Record<string, string | undefined> = {
      'x-amz-copy-source': `/${encodeURIComponent(bucket)}/${encodeKey(key)}`,
      'x-amz-metadata-directive': 'REPLACE',
      'content-type': contentType ?? (head['Content-Type'] as string | undefined),
      // A Cache-Control the bucket's rules or the default supplied is not the object's own.
      'cache-control': cacheControl ?? (head[CACHE_SOURCE_HEADER] === undefined ? (head['Cache-Control'] as string | undefined) : undefined),
      'x-amz-acl': makePublic ?? (await objectIsPublic(call, bucket, key)) ? 'public-read' : 'private',
    };
    if (cacheControl === '') delete headers['cache-control'];
    for (const name of KEPT_HEADERS) if (head[name] !== undefined) headers[name.toLowerCase()] = String(head[name]);
    for (const [name, value] of Object.entries(head)) if (name.toLowerCase().startsWith('x-amz-meta-') && value !== undefined) headers[name.toLowerCase()] = String(value);
    await runS3Text(call, { method: 'PUT', bucket, key, headers });
  } else if (makePublic !== undefined) {
    await runS3Text(call, { method: 'PUT', bucket, key, query: { acl: '' }, headers: { 'x-amz-acl': makePublic ? 'public-read' : 'private' } });
  }
  return { body: await describeObject(call, bucket, key) };
}

export async function renameObject(call: SignedInCall): Promise<ApiAnswer> {
  const bucket = call.params.bucket!;
  const body = await readJson(call.req);
  const from = stringField(body, 'from', { max: 1024 })!;
  const to = stringField(body, 'to', { max: 1024 })!;
  if (from === '' || to === '') throw badInput('"from" and "to" are object names.');
  if (from === to) throw badInput('The new name is the same as the old one.');
  if (await s3Allows(call, { method: 'HEAD', bucket, key: to })) throw new ConsoleError(409, 'ObjectExists', `An object named ${to} already exists: delete or rename it first.`);
  const wasPublic = await objectIsPublic(call, bucket, from);
  await runS3Text(call, { method: 'PUT', bucket, key: to, headers: { 'x-amz-copy-source': `/${encodeURIComponent(bucket)}/${encodeKey(from)}`, 'x-amz-acl': wasPublic ? 'public-read' : 'private' } });
  await runS3Text(call, { method: 'DELETE', bucket, key: from });
  return { body: await describeObject(call, bucket, to) };
}

export async function deleteObjects(call: SignedInCall): Promise<ApiAnswer> {
  const bucket = call.params.bucket!;
  const body = await readJson(call.req);
  const keys = body.keys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > 1000 || keys.some((k) => typeof k !== 'string' || k === '')) {
    throw badInput('"keys" is a list of 1 to 1000 object names.');
  }
  const doc = `<Delete>${(keys as string[]).map((k) => `<Object><Key>${escapeXml(k)}</Key></Object>`).join('')}</Delete>`;
  const result = child(parseXml((await runS3Text(call, { method: 'POST', bucket, query: { delete: '' }, body: doc })).text), 'DeleteResult');
  return {
    body: {
      deleted: children(result, 'Deleted').map((d) => childText(d, 'Key') ?? ''),
      errors: children(result, 'Error').map((e) => ({ key: childText(e, 'Key') ?? '', code: childText(e, 'Code') ?? '', message: childText(e, 'Code') === 'AccessDenied' ? 'This key is not allowed to delete it.' : (childText(e, 'Message') ?? '') })),
    },
  };
}
