/** GetObjectAttributes: size, ETag, checksum, storage class and parts of an object in one call. */
import { customerKeyOf, readKeyFor } from '../sse/headers.js';
import { S3Error } from '../../errors/s3-error.js';
import { xmlReply, type Handler } from '../context.js';
import { header, httpDate } from '../headers.js';
import { doc, el, text } from '../xml.js';
import { requireBucket } from './_common.js';
import { readableVersion, versionHeaders } from './versioning.js';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

export const getObjectAttributes: Handler<'GetObjectAttributes'> = async (ctx) => {
  const bucket = requireBucket(ctx);
  const raw = header(ctx.headers, 'x-amz-object-attributes');
  if (!raw) throw new S3Error('InvalidRequest', 'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty');
  const wanted = new Set<Attribute>();
  for (const name of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(ATTRIBUTES as readonly string[]).includes(name)) throw new S3Error('InvalidArgument', `Invalid attribute name specified: ${name}`, { ArgumentName: 'x-amz-object-attributes', ArgumentValue: name });
    wanted.add(name as Attribute);
  }
  const meta = await readableVersion(ctx, bucket, 'READ');
  readKeyFor(meta, customerKeyOf(ctx.req, ctx.headers));
  const maxParts = numberHeader(header(ctx.headers, 'x-amz-max-parts'), 1000, 'x-amz-max-parts');
  const marker = numberHeader(header(ctx.headers, 'x-amz-part-number-marker'), 0, 'x-amz-part-number-marker');
  const checksum = meta.checksum;
  const checksumXml = checksum
    ? el('Checksum', text(`Checksum${checksum.algorithm}`, checksum.value), text('ChecksumType', checksum.type))
    : '';
  let partsXml = '';
  if (wanted.has('ObjectParts') && meta.partSizes) {
    const parts = meta.partSizes.map((size, i) => ({ number: i + 1, size })).filter((p) => p.number > marker);
    const page = parts.slice(0, maxParts);
    const truncated = parts.length > page.length;
    partsXml = el(
      'ObjectParts',
      text('PartsCount', meta.partSizes.length),
      text('PartNumberMarker', marker),
      truncated ? text('NextPartNumberMarker', page.at(-1)!.number) : '',
      text('MaxParts', maxParts),
      text('IsTruncated', truncated),
      page.map((p) => el('Part', text('PartNumber', p.number), text('Size', p.size))),
    );
  }
  const body = doc(
    'GetObjectAttributesResponse',
    wanted.has('ETag') ? text('ETag', meta.etag.replace(/^"|"$/g, '')) : '',
    wanted.has('Checksum') ? checksumXml : '',
    partsXml,
    wanted.has('StorageClass') ? text('StorageClass', 'STANDARD') : '',
    wanted.has('ObjectSize') ? text('ObjectSize', meta.size) : '',
  );
  return xmlReply(body, 200, { 'Last-Modified': httpDate(meta.lastModified), ...versionHeaders(ctx, meta) });
};

function numberHeader(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new S3Error('InvalidArgument', `${name} must be a non-negative integer`, { ArgumentName: name, ArgumentValue: value });
  return Number(value);
}
