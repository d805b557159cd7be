/**
 * The one table of S3 error codes this server can answer with, from the AWS
 * "Error responses" page (ErrorResponses.html). Handlers throw `S3Error` naming a
 * code; `respond.ts` turns it into the XML document and status.
 */
export const S3_ERRORS = {
  AccessDenied: { status: 403, message: 'Access Denied' },
  AccessControlListNotSupported: { status: 400, message: 'The bucket does not allow ACLs' },
  InvalidBucketAclWithObjectOwnership: { status: 400, message: 'Bucket cannot have ACLs set with ObjectOwnership\'s BucketOwnerEnforced setting' },
  AuthorizationHeaderMalformed: { status: 400, message: 'The authorization header is malformed.' },
  AuthorizationQueryParametersError: { status: 400, message: 'Error parsing the X-Amz-Credential parameter.' },
  BadDigest: { status: 400, message: 'The Content-MD5 or checksum value that you specified did not match what the server received.' },
  BucketAlreadyExists: { status: 409, message: 'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.' },
  BucketAlreadyOwnedByYou: { status: 409, message: 'Your previous request to create the named bucket succeeded and you already own it.' },
  BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty' },
  EntityTooLarge: { status: 400, message: 'Your proposed upload exceeds the maximum allowed object size.' },
  EntityTooSmall: { status: 400, message: 'Your proposed upload is smaller than the minimum allowed object size.' },
  ExpiredToken: { status: 400, message: 'The provided token has expired.' },
  IllegalLocationConstraintException: { status: 400, message: 'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.' },
  IncompleteBody: { status: 400, message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: { status: 403, message: 'The AWS Access Key Id you provided does not exist in our records.' },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
  InvalidBucketState: { status: 409, message: 'The request is not valid with the current state of the bucket.' },
  InvalidDigest: { status: 400, message: 'The Content-MD5 you specified is not valid.' },
  InvalidEncryptionAlgorithmError: { status: 400, message: 'The encryption request you specified is not valid.' },
  InvalidObjectState: { status: 403, message: 'The operation is not valid for the current state of the object.' },
  InvalidPart: { status: 400, message: 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.' },
  InvalidPartOrder: { status: 400, message: 'The list of parts was not in ascending order. Parts must be ordered by part number.' },
  InvalidPartNumber: { status: 416, message: 'The requested partnumber is not satisfiable' },
  InvalidRange: { status: 416, message: 'The requested range is not satisfiable' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidRedirectLocation: { status: 400, message: "The website redirect location must have a prefix of 'http://' or 'https://' or '/'." },
  InvalidStorageClass: { status: 400, message: 'The storage class you specified is not valid.' },
  InvalidTag: { status: 400, message: 'The tag provided was not a valid tag.' },
  InvalidURI: { status: 400, message: 'Couldn\'t parse the specified URI.' },
  KeyTooLongError: { status: 400, message: 'Your key is too long.' },
  MalformedACLError: { status: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema.' },
  MalformedPOSTRequest: { status: 400, message: 'The body of your POST request is not well-formed multipart/form-data.' },
  MalformedPolicy: { status: 400, message: 'Policy has invalid resource.' },
  MalformedXML: { status: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema.' },
  MaxPostPreDataLengthExceeded: { status: 400, message: 'Your POST request fields preceding the upload file were too large.' },
  MaxMessageLengthExceeded: { status: 400, message: 'Your request was too big.' },
  MetadataTooLarge: { status: 400, message: 'Your metadata headers exceed the maximum allowed metadata size.' },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.' },
  MissingContentLength: { status: 411, message: 'You must provide the Content-Length HTTP header.' },
  MissingRequestBodyError: { status: 400, message: 'Request Body is empty.' },
  MissingSecurityHeader: { status: 400, message: 'Your request is missing a required header.' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist' },
  NoSuchBucketPolicy: { status: 404, message: 'The bucket policy does not exist' },
  NoSuchCORSConfiguration: { status: 404, message: 'The CORS configuration does not exist' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchTagSet: { status: 404, message: 'The TagSet does not exist' },
  NoSuchUpload: { status: 404, message: 'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.' },
  NoSuchVersion: { status: 404, message: 'The specified version does not exist.' },
  NoSuchWebsiteConfiguration: { status: 404, message: 'The specified bucket does not have a website configuration' },
  NotImplemented: { status: 501, message: 'A header or query you provided implies functionality that is not implemented.' },
  NotModified: { status: 304, message: 'Not Modified' },
  PreconditionFailed: { status: 412, message: 'At least one of the preconditions you specified did not hold.' },
  RequestTimeTooSkewed: { status: 403, message: 'The difference between the request time and the server\'s time is too large.' },
  RequestTimeout: { status: 400, message: 'Your socket connection to the server was not read from or written to within the timeout period.' },
  RequestHeaderSectionTooLarge: { status: 400, message: 'Your request header section exceeds the maximum allowed size.' },
  SignatureDoesNotMatch: { status: 403, message: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.' },
  ServiceUnavailable: { status: 503, message: 'Please reduce your request rate.' },
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  TooManyBuckets: { status: 400, message: 'You have attempted to create more buckets than allowed.' },
  UnexpectedContent: { status: 400, message: 'This request does not support content.' },
  InvalidChunkSizeError: { status: 403, message: 'Only the last chunk is allowed to have a size less than 8192 bytes' },
  UnresolvableGrantByEmailAddress: { status: 400, message: 'The email address you provided does not match any account on record.' },
  XAmzContentSHA256Mismatch: { status: 400, message: 'The provided \'x-amz-content-sha256\' header does not match what was computed.' },
  MissingAttachment: { status: 400, message: 'A SOAP attachment was expected, but none were found.' },
  InvalidLocationConstraint: { status: 400, message: 'The specified location constraint is not valid.' },
  InvalidPolicyDocument: { status: 400, message: 'The content of the form does not meet the conditions specified in the policy document.' },
  OwnershipControlsNotFoundError: { status: 404, message: 'The bucket ownership controls were not found' },
  ServerSideEncryptionConfigurationNotFoundError: { status: 404, message: 'The server side encryption configuration was not found' },
  NoSuchLifecycleConfiguration: { status: 404, message: 'The lifecycle configuration does not exist' },
  ObjectLockConfigurationNotFoundError: { status: 404, message: 'Object Lock configuration does not exist for this bucket' },
  ReplicationConfigurationNotFoundError: { status: 404, message: 'The replication configuration was not found' },
  NoSuchPublicAccessBlockConfiguration: { status: 404, message: 'The public access block configuration was not found' },
  // Offload's own, for its data folder (as MinIO answers 507 XMinioStorageFull): not retried by SDKs as a 5xx-transient would be.
  XOffloadStorageFull: { status: 507, message: 'The server\'s storage has reached its minimum free space (--min-free-space): new object writes are refused until space is freed. Deleting objects still works.' },
  // Offload's own: a path under /_offload/ that names no admin endpoint (or one this server runs without).
  XOffloadNoSuchAdminEndpoint: { status: 404, message: 'There is no such /_offload/ endpoint on this server.' },
  // Offload's own, for origin buckets (src/origin/): the origin failed or was too slow; never cached as content.
  XOffloadOriginError: { status: 502, message: 'The origin server of this bucket answered with an error or could not be reached.' },
  XOffloadOriginTimeout: { status: 504, message: 'The origin server of this bucket did not answer in time.' },
  XOffloadStorageIOError: { status: 500, message: 'The server could not read or write its data folder: the disk or file system reported an I/O error.' },
  // Offload's own: encrypted bytes that fail their authentication tag (or a data key that will not unwrap) are never served.
  XOffloadIntegrityError: { status: 500, message: 'The object\'s stored bytes failed their integrity check (encryption at rest): nothing was served. The server log names the blob.' },
  // Offload's own (as MinIO's XMinioAdminBucketQuotaExceeded): the write would take the bucket past its quota.
  XOffloadQuotaExceeded: { status: 403, message: 'The write would exceed the bucket\'s quota.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type S3ErrorCode = keyof typeof S3_ERRORS;

/** Thrown by handlers, the auth layer and body decoders; written once by `respond.ts`. */
export class S3Error extends Error {
  readonly code: S3ErrorCode;
  readonly status: number;
  /** Extra elements for the error document, such as `BucketName`, `Key` or `ArgumentName`. */
  readonly details: Record<string, string>;
  /** Extra response headers (for example `Allow` on 405). */
  readonly headers: Record<string, string>;

  constructor(code: S3ErrorCode, message?: string, details: Record<string, string> = {}, headers: Record<string, string> = {}) {
    super(message ?? S3_ERRORS[code].message);
    this.code = code;
    this.status = S3_ERRORS[code].status;
    this.details = details;
    this.headers = headers;
  }
}

export function isS3Error(err: unknown): err is S3Error {
  return err instanceof S3Error;
}
