/**
 * Writing encrypted blobs and finding the data key of one to read: the engine's one holder of the
 * master key (which may be absent: then only SSE-C, whose key comes with each request, works).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { S3Error } from '../../errors/s3-error.js';
import type { BlobStorage, WrittenBlob } from '../blobs.js';
import { SealingStream } from './frames.js';
import { newDataKey, unwrapKey, wrapKey, type MasterKey } from './keys.js';
import type { EncryptionRequest, SegmentEncryption } from './types.js';

export const NEEDS_CUSTOMER_KEY = 'The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.';
export const NO_MASTER_KEY = 'Server-side encryption (SSE-S3) is not configured on this server: start it with --master-key-file (or OFFLOAD_MASTER_KEY_FILE). The request was refused rather than stored unencrypted.';

export class Sealer {
  constructor(readonly master?: MasterKey) {}

  /** Streams the body, encrypted, into a new blob; md5 and size are the plaintext's. */
  async write(files: BlobStorage, body: Readable, opts: { inline?: boolean }, request: EncryptionRequest): Promise<WrittenBlob> {
    const kek = this.kekFor(request);
    const { key, noncePrefix } = newDataKey();
    const md5 = createHash('md5');
    let size = 0;
    const sealing = new SealingStream(key, noncePrefix, (chunk) => {
      md5.update(chunk);
      size += chunk.length;
    });
    body.once('error', (err) => sealing.destroy(err));
    body.pipe(sealing);
    const blob = await files.write(sealing, { ...opts, skipMd5: true });
    const enc: SegmentEncryption = { key: wrapKey(kek.key, key), nonce: noncePrefix.toString('base64'), kek: kek.tag };
    return { ...blob, md5: md5.digest(), size, enc };
  }

  private kekFor(request: EncryptionRequest): { key: Buffer; tag: SegmentEncryption['kek'] } {
    if (request.customerKey) return { key: request.customerKey, tag: 'customer' };
    if (!this.master) throw new S3Error('InvalidRequest', NO_MASTER_KEY);
    return { key: this.master.key, tag: { master: this.master.id } };
  }

  /** The segment's data key; throws before any byte is read when the right key is not at hand. */
  dataKeyOf(enc: SegmentEncryption, customerKey: Buffer | undefined): Buffer {
    if (enc.kek === 'customer') {
      if (!customerKey) throw new S3Error('InvalidRequest', NEEDS_CUSTOMER_KEY);
      return unwrapKey(customerKey, enc.key);
    }
    if (!this.master) throw new S3Error('XOffloadIntegrityError', `This object is encrypted with a master key (id ${enc.kek.master}), and the server runs without --master-key-file.`);
    if (this.master.id !== enc.kek.master) throw new S3Error('XOffloadIntegrityError', `This object's data key is wrapped by master key ${enc.kek.master}; this server runs with master key ${this.master.id}.`);
    return unwrapKey(this.master.key, enc.key);
  }
}
