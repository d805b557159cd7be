/**
 * Contract between the HTTP/S3 layer and request authentication.
 * `authenticate()` checks the signature of the request line and headers (SigV4 header or
 * presigned query, SigV2 header or query, or none); `decodeBody()` then yields the payload,
 * verifying whatever the signature mode promises about it while it streams.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { ChecksumAlgorithm } from '../storage/types.js';

// An access key as the key store keeps it: defined by storage, which auth sits above.
import type { Credential } from '../storage/keys.js';
export type { Credential };

export type CredentialLookup = (accessKeyId: string) => Credential | undefined;

export interface AuthInput {
  method: string;
  /** The request target's path exactly as received, still percent-encoded, without the query. */
  rawPath: string;
  /** Everything after the first `?` of the request target, as received ('' when none). */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  /** For SigV2's canonical resource: the bucket when it came from the Host header (virtual-hosted style). */
  virtualHostBucket?: string;
}

export interface AuthOptions {
  region: string;
  lookup: CredentialLookup;
  /** Server clock in ms (tests pass a fixed one). */
  now?: number;
}

export type Principal =
  | { kind: 'anonymous' }
  | { kind: 'user'; credential: Credential; signatureVersion: 2 | 4; presigned: boolean };

/** What the signature says about the body, for `decodeBody`. */
export type PayloadMode =
  /** Nothing to check beyond length: anonymous, SigV2, UNSIGNED-PAYLOAD, presigned. */
  | { kind: 'unsigned' }
  /** x-amz-content-sha256 carries the hex SHA-256 of the whole body. */
  | { kind: 'sha256'; expectedHex: string }
  /** aws-chunked: STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] or STREAMING-UNSIGNED-PAYLOAD-TRAILER. */
  | {
      kind: 'chunked';
      signed: boolean;
      trailer: boolean;
      /** For signed chunks: the seed (header) signature, signing key, amz date and scope. */
      seedSignature?: string;
      signingKey?: Buffer;
      amzDate?: string;
      scope?: string;
    };

export interface AuthResult {
  principal: Principal;
  payload: PayloadMode;
}

/** The checksum the client asked to be verified and stored, from headers (or to come in the trailer). */
export interface ChecksumRequest {
  algorithm: ChecksumAlgorithm;
  /** Base64 value from the `x-amz-checksum-<alg>` header; absent when it comes in the trailer. */
  expected?: string;
}

export interface DecodedBody {
  /** The payload bytes. Errors with an S3Error (SignatureDoesNotMatch, XAmzContentSHA256Mismatch, BadDigest, IncompleteBody, ...) before it ends if anything fails to verify. */
  stream: Readable;
  /** Valid once `stream` has ended: the verified checksum (algorithm and base64 value), if one was requested. */
  checksum(): { algorithm: ChecksumAlgorithm; value: string } | undefined;
}
