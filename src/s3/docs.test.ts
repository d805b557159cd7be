import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BUCKET_OPS, OBJECT_OPS, SERVICE_OPS } from './router.js';

const serverDoc = readFileSync(resolve(import.meta.dirname, '../../docs/server.md'), 'utf8');

describe('docs/server.md', () => {
  it('names every operation the router knows in its operations table', () => {
    const table = serverDoc.slice(serverDoc.indexOf('## S3 operations'));
    const missing = [...SERVICE_OPS, ...BUCKET_OPS, ...OBJECT_OPS].filter((op) => op !== 'BucketSubresource' && !table.includes(op));
    expect(missing).toEqual([]);
  });
});
