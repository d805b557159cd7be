/**
 * Encryption at rest on PostgreSQL metadata (cases in sse-pg-cases.ts): two `offload serve --meta
 * ... --master-key-file` nodes, written through A and read through B, with the blobs in a shared
 * folder. The same cases with an S3 backend: sse-pg-s3.test.ts (a second local Offload) and
 * sse-pg-ceph.test.ts (Ceph's gateway). Nodes with another master key: sse-pg-rotate.test.ts.
 */
import { exerciseSse, folderBackend } from './sse-pg-cases.js';

exerciseSse('a shared folder', folderBackend);
