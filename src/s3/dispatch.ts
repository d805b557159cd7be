/**
 * One handler per operation. The table's type requires an entry for every operation the
 * router can produce; those not built yet answer NotImplemented with their name.
 */
import { deleteBucketEncryption, getBucketEncryption, putBucketEncryption } from './ops/bucket-encryption.js';
import { getObjectAttributes } from './ops/object-attributes.js';
import { deleteBucketOwnershipControls, deletePublicAccessBlock, getBucketOwnershipControls, getPublicAccessBlock, putBucketOwnershipControls, putPublicAccessBlock } from './ops/bucket-controls.js';
import { getBucketLogging, putBucketLogging } from './ops/logging.js';
import { S3Error } from '../errors/s3-error.js';
import { refuseUnsupported } from './unsupported.js';
import { refuseOutOfScope } from './access/key-scope.js';
import type { Handler, HandlerTable, RequestContext, Reply } from './context.js';
import type { OpName, Operation } from './router.js';
import { createBucket, deleteBucket, getBucketLocation, headBucket, listBuckets } from './ops/bucket.js';
import { getBucketVersioning, putBucketVersioning } from './ops/versioning.js';
import { deleteBucketLifecycle, getBucketLifecycle, putBucketLifecycle } from './ops/lifecycle.js';
import { getObject, headObject } from './ops/object-get.js';
import { putObject } from './ops/object-put.js';
import { postObject } from './ops/object-post.js';
import { deleteObject, deleteObjects } from './ops/object-delete.js';
import { listObjects, listObjectsV2, listObjectVersions } from './ops/list.js';
import { getBucketAcl, getObjectAcl, putBucketAcl, putObjectAcl } from './ops/acl.js';
import { copyObject } from './ops/copy.js';
import { deleteBucketWebsite, getBucketWebsite, putBucketWebsite } from './ops/website.js';
import { completeMultipartUpload } from './ops/multipart-complete.js';
import { abortMultipartUpload, createMultipartUpload, listMultipartUploads, listParts, uploadPart, uploadPartCopy } from './ops/multipart.js';
import { deleteObjectTagging, getObjectTagging, putObjectTagging, getBucketTagging, putBucketTagging, deleteBucketTagging } from './ops/tagging.js';
import { corsPreflight, deleteBucketCors, getBucketCors, putBucketCors } from './ops/cors.js';
import { deleteBucketPolicy, getBucketPolicy, getBucketPolicyStatus, putBucketPolicy } from './ops/policy.js';

function notImplemented<K extends OpName>(name: K): Handler<K> {
  return async () => {
    throw new S3Error('NotImplemented', `${name} is not implemented by this server`, { Operation: name });
  };
}

export const HANDLERS: HandlerTable = {
  ListBuckets: listBuckets,
  CreateBucket: createBucket,
  HeadBucket: headBucket,
  DeleteBucket: deleteBucket,
  GetBucketLocation: getBucketLocation,
  GetBucketVersioning: getBucketVersioning,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  ListObjectVersions: listObjectVersions,
  PutObject: putObject,
  GetObject: getObject,
  HeadObject: headObject,
  DeleteObject: deleteObject,
  DeleteObjects: deleteObjects,
  CorsPreflight: corsPreflight,
  ListMultipartUploads: listMultipartUploads,
  PostObject: postObject,
  GetBucketAcl: getBucketAcl,
  PutBucketAcl: putBucketAcl,
  GetBucketPolicy: getBucketPolicy,
  PutBucketPolicy: putBucketPolicy,
  DeleteBucketPolicy: deleteBucketPolicy,
  GetBucketPolicyStatus: getBucketPolicyStatus,
  GetBucketCors: getBucketCors,
  PutBucketCors: putBucketCors,
  DeleteBucketCors: deleteBucketCors,
  GetBucketWebsite: getBucketWebsite,
  PutBucketWebsite: putBucketWebsite,
  DeleteBucketWebsite: deleteBucketWebsite,
  GetBucketTagging: getBucketTagging,
  PutBucketTagging: putBucketTagging,
  DeleteBucketTagging: deleteBucketTagging,
  PutBucketVersioning: putBucketVersioning,
  GetBucketLifecycleConfiguration: getBucketLifecycle,
  PutBucketLifecycleConfiguration: putBucketLifecycle,
  DeleteBucketLifecycle: deleteBucketLifecycle,
  GetBucketLogging: getBucketLogging,
  PutBucketLogging: putBucketLogging,
  GetBucketEncryption: getBucketEncryption,
  PutBucketEncryption: putBucketEncryption,
  DeleteBucketEncryption: deleteBucketEncryption,
  GetBucketOwnershipControls: getBucketOwnershipControls,
  PutBucketOwnershipControls: putBucketOwnershipControls,
  DeleteBucketOwnershipControls: deleteBucketOwnershipControls,
  GetPublicAccessBlock: getPublicAccessBlock,
  PutPublicAccessBlock: putPublicAccessBlock,
  DeletePublicAccessBlock: deletePublicAccessBlock,
  GetBucketNotificationConfiguration: notImplemented('GetBucketNotificationConfiguration'),
  PutBucketNotificationConfiguration: notImplemented('PutBucketNotificationConfiguration'),
  GetObjectLockConfiguration: notImplemented('GetObjectLockConfiguration'),
  PutObjectLockConfiguration: notImplemented('PutObjectLockConfiguration'),
  GetBucketReplication: notImplemented('GetBucketReplication'),
  PutBucketReplication: notImplemented('PutBucketReplication'),
  DeleteBucketReplication: notImplemented('DeleteBucketReplication'),
  GetBucketAccelerateConfiguration: notImplemented('GetBucketAccelerateConfiguration'),
  PutBucketAccelerateConfiguration: notImplemented('PutBucketAccelerateConfiguration'),
  GetBucketRequestPayment: notImplemented('GetBucketRequestPayment'),
  PutBucketRequestPayment: notImplemented('PutBucketRequestPayment'),
  BucketSubresource: notImplemented('BucketSubresource'),
  CopyObject: copyObject,
  GetObjectAcl: getObjectAcl,
  PutObjectAcl: putObjectAcl,
  GetObjectTagging: getObjectTagging,
  PutObjectTagging: putObjectTagging,
  DeleteObjectTagging: deleteObjectTagging,
  GetObjectAttributes: getObjectAttributes,
  CreateMultipartUpload: createMultipartUpload,
  UploadPart: uploadPart,
  UploadPartCopy: uploadPartCopy,
  CompleteMultipartUpload: completeMultipartUpload,
  AbortMultipartUpload: abortMultipartUpload,
  ListParts: listParts,
  GetObjectRetention: notImplemented('GetObjectRetention'),
  PutObjectRetention: notImplemented('PutObjectRetention'),
  GetObjectLegalHold: notImplemented('GetObjectLegalHold'),
  PutObjectLegalHold: notImplemented('PutObjectLegalHold'),
  RestoreObject: notImplemented('RestoreObject'),
  SelectObjectContent: notImplemented('SelectObjectContent'),
  GetObjectTorrent: notImplemented('GetObjectTorrent'),
};

export async function dispatch(ctx: RequestContext): Promise<Reply> {
  refuseUnsupported(ctx.op.op, ctx.headers, ctx.query);
  refuseOutOfScope(ctx.principal, ctx.op);
  const handler = HANDLERS[ctx.op.op] as (ctx: RequestContext<Operation>) => Promise<Reply>;
  return handler(ctx);
}
