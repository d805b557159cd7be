/** Put/Get/DeleteBucketWebsite: the configuration the website endpoint serves by. */
import { S3Error } from '../../errors/s3-error.js';
import { emptyReply, xmlReply, type Handler } from '../context.js';
import { parseWebsiteXml, websiteXml } from '../website-xml.js';
import { bucketWebsite } from '../../media/website-config.js';
import { bucketFor, storeCall } from './_common.js';

export const putBucketWebsite: Handler<'PutBucketWebsite'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  const config = parseWebsiteXml((await ctx.readBody(128 * 1024)).toString('utf8'));
  for (const hostName of [config.redirectAllRequestsTo?.hostName, ...config.routingRules.map((r) => r.redirect.hostName)]) checkHostName(hostName);
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'website', JSON.stringify(config)));
  return emptyReply(200);
};

export const getBucketWebsite: Handler<'GetBucketWebsite'> = async (ctx) => {
  bucketFor(ctx, 'READ', true);
  const config = bucketWebsite(ctx.store, ctx.op.bucket);
  if (!config) throw new S3Error('NoSuchWebsiteConfiguration', undefined, { BucketName: ctx.op.bucket });
  return xmlReply(websiteXml(config));
};

export const deleteBucketWebsite: Handler<'DeleteBucketWebsite'> = async (ctx) => {
  bucketFor(ctx, 'WRITE', true);
  await storeCall(ctx, () => ctx.store.setBucketConfig(ctx.op.bucket, 'website', undefined));
  return emptyReply(204);
};

/**
 * A redirect's HostName goes into a Location header as `protocol://HostName/path`: only a host
 * (and port), so that no path, userinfo or control character can ride along.
 */
function checkHostName(hostName: string | undefined): void {
  if (hostName === undefined) return;
  if (!/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?::\d{1,5})?$/.test(hostName) || hostName.length > 253) {
    throw new S3Error('InvalidArgument', 'The HostName of a website redirect must be a host name', { ArgumentName: 'HostName', ArgumentValue: hostName.slice(0, 64) });
  }
}
