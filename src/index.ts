/**
 * Offload as a library: start the server in-process (tests, embedding) or open a store.
 * @example
 * const server = await startServer({ host: '127.0.0.1', port: 0, dataDir: './data', domain: 'localhost', region: 'us-east-1' });
 * console.log(server.url);
 * await server.stop();
 */
export { startServer, type RunningServer, type ServeOptions } from './server/index.js';
export type { Store, ObjectMeta, BucketInfo } from './storage/types.js';
export { S3Error, S3_ERRORS, type S3ErrorCode } from './errors/s3-error.js';
