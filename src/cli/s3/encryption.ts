/**
 * `--sse AES256` and `--sse-c-key-file FILE` for the upload tool: the encryption parameters are
 * added to every request that writes or reads object bytes by one SDK middleware, so each
 * transfer path (single PUT, multipart, copies, header rewrites, downloads) gets them.
 */
import { readFileSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';

export interface EncryptionFlags {
  sse?: string;
  sseCKeyFile?: string;
}

const encrypting = new WeakSet<S3Client>();

/** Whether the client's requests carry encryption parameters (the lean PUT path then stands aside). */
export function clientEncrypts(client: S3Client): boolean {
  return encrypting.has(client);
}

const WRITES = new Set(['PutObjectCommand', 'CreateMultipartUploadCommand', 'CopyObjectCommand']);
const CUSTOMER_KEYED = new Set(['PutObjectCommand', 'CreateMultipartUploadCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand', 'CopyObjectCommand', 'GetObjectCommand', 'HeadObjectCommand']);

export function applyEncryption(client: S3Client, flags: EncryptionFlags): void {
  if (flags.sse === undefined && flags.sseCKeyFile === undefined) return;
  if (flags.sse !== undefined && flags.sse !== 'AES256') throw new Error(`--sse: only AES256 (SSE-S3) is supported, got "${flags.sse}"`);
  if (flags.sse !== undefined && flags.sseCKeyFile !== undefined) throw new Error('give --sse or --sse-c-key-file, not both');
  const key = flags.sseCKeyFile === undefined ? undefined : customerKey(flags.sseCKeyFile);
  encrypting.add(client);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const command = context.commandName ?? '';
      if (key === undefined) {
        if (WRITES.has(command)) input.ServerSideEncryption = 'AES256';
      } else if (CUSTOMER_KEYED.has(command)) {
        Object.assign(input, { SSECustomerAlgorithm: 'AES256', SSECustomerKey: key });
        if (command === 'CopyObjectCommand') Object.assign(input, { CopySourceSSECustomerAlgorithm: 'AES256', CopySourceSSECustomerKey: key });
      }
      return next(args);
    },
    { step: 'initialize', name: 'offloadEncryption' },
  );
}

/** 32 raw bytes, or 64 hex characters, or 44 base64 characters. */
function customerKey(file: string): Uint8Array {
  const raw = readFileSync(file);
  if (raw.length === 32) return raw;
  const text = raw.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  const b64 = Buffer.from(text, 'base64');
  if (b64.length === 32) return b64;
  throw new Error(`--sse-c-key-file ${file}: expected a 256-bit key (32 bytes, 64 hex characters or base64)`);
}
