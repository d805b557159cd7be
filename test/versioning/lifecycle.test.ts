/**
 * Lifecycle rules applied by the background sweep, with the clock the tests control
 * (OFFLOAD_TEST_CLOCK_FILE): current versions expire into delete markers, noncurrent versions
 * after NoncurrentDays keeping NewerNoncurrentVersions, lone markers go, stale uploads are
 * aborted, filters by prefix and tags hold; and the configuration is validated as S3 does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3ServiceException} from '@aws-sdk/client-s3';
import {
  CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetBucketLifecycleConfigurationCommand, ListMultipartUploadsCommand,
  ListObjectVersionsCommand, PutBucketLifecycleConfigurationCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client,
} from '@aws-sdk/client-s3';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdkClient } from '../helpers/clients.js';
import { removeDir, tempDir } from '../helpers/peers.js';

const DAY = 24 * 3600 * 1000;

describe('lifecycle rules with a test clock', () => {
  let server: TestServer;
  let s3: S3Client;
  let dir: string;
  let clock: string;
  const setClock = (ms: number) => writeFileSync(clock, String(ms));

  beforeAll(async () => {
    dir = tempDir('lifecycle-clock');
    clock = join(dir, 'now');
    setClock(Date.now());
    server = await startServer({ env: { OFFLOAD_TEST_CLOCK_FILE: clock, OFFLOAD_TEST_LIFECYCLE_SWEEP_MS: '100' } });
    s3 = sdkClient(server);
  });
  afterAll(async () => {
    s3?.destroy();
    await server?.stop();
    removeDir(dir);
  });

  async function versions(bucket: string) {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    return {
      versions: (r.Versions ?? []).map((v) => `${v.Key}${v.IsLatest ? '' : '~old'}`),
      markers: (r.DeleteMarkers ?? []).map((m) => `${m.Key}${m.IsLatest ? '' : '~old'}`),
    };
  }

  async function until(check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 200; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`the sweep never got there: ${JSON.stringify(await versions('life'))}`);
  }

  it('expires current versions, noncurrent ones (keeping the newest), lone markers and stale uploads', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'life' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'life', VersioningConfiguration: { Status: 'Enabled' } }));
    for (let i = 0; i < 4; i++) await s3.send(new PutObjectCommand({ Bucket: 'life', Key: 'logs/a.txt', Body: `a${i}` }));
    await s3.send(new PutObjectCommand({ Bucket: 'life', Key: 'keep/b.txt', Body: 'b' }));
    await s3.send(new PutObjectCommand({ Bucket: 'life', Key: 'tagged/c.txt', Body: 'c', Tagging: 'expire=yes' }));
    await s3.send(new PutObjectCommand({ Bucket: 'life', Key: 'tagged/d.txt', Body: 'd', Tagging: 'expire=no' }));
    // A delete of a key that never existed leaves a lone marker: nothing behind it.
    await s3.send(new DeleteObjectCommand({ Bucket: 'life', Key: 'gone.txt' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: 'life', Key: 'logs/upload.bin' }));
    await s3.send(new PutBucketLifecycleConfigurationCommand({
      Bucket: 'life',
      LifecycleConfiguration: {
        Rules: [
          { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 }, NoncurrentVersionExpiration: { NoncurrentDays: 7, NewerNoncurrentVersions: 1 }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 } },
          { ID: 'tags', Status: 'Enabled', Filter: { And: { Prefix: 'tagged/', Tags: [{ Key: 'expire', Value: 'yes' }] } }, Expiration: { Days: 1 } },
          { ID: 'markers', Status: 'Enabled', Filter: { Prefix: 'gone' }, Expiration: { ExpiredObjectDeleteMarker: true } },
          { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'keep/' }, Expiration: { Days: 1 } },
        ],
      },
    }));
    const rules = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'life' }));
    expect(rules.Rules?.map((r) => r.ID)).toEqual(['logs', 'tags', 'markers', 'off']);

    // Ten days on: the old logs versions beyond the newest noncurrent one go, tagged c expires, the lone marker and the upload go.
    setClock(Date.now() + 10 * DAY);
    await until(async () => (await versions('life')).versions.filter((v) => v === 'logs/a.txt~old').length === 1 && (await versions('life')).markers.length === 1);
    expect(await versions('life')).toEqual({
      versions: ['keep/b.txt', 'logs/a.txt', 'logs/a.txt~old', 'tagged/c.txt~old', 'tagged/d.txt'],
      markers: ['tagged/c.txt'],
    });
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'life' }))).Uploads ?? []).toEqual([]);

    // Forty days on: logs/a.txt itself expires into a delete marker (versioned bucket), keep/ never (its rule is disabled).
    setClock(Date.now() + 40 * DAY);
    await until(async () => (await versions('life')).markers.includes('logs/a.txt'));
    const later = await versions('life');
    expect(later.versions).toContain('keep/b.txt');
    expect(later.versions).toContain('tagged/d.txt');
  });

  it('validates the configuration as S3 does', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'life-invalid' }));
    const put = (rules: unknown[]) => s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'life-invalid', LifecycleConfiguration: { Rules: rules as never } }));
    const failure = async (rules: unknown[]) => {
      try {
        await put(rules);
      } catch (err) {
        return [(err as S3ServiceException).$metadata.httpStatusCode, (err as S3ServiceException).name];
      }
      return 'accepted';
    };
    expect(await failure([{ ID: 'a', Status: 'enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }])).toEqual([400, 'MalformedXML']);
    expect(await failure([{ ID: 'a'.repeat(256), Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 1 } }])).toEqual([400, 'InvalidArgument']);
    expect(await failure([{ ID: 'a', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 0 } }])).toEqual([400, 'InvalidArgument']);
    expect(await failure([{ ID: 'a', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Date: new Date('2030-01-01T12:00:00Z') } }])).toEqual([400, 'InvalidArgument']);
    expect(await failure([{ ID: 'x', Status: 'Enabled', Filter: { Prefix: 'a' }, Expiration: { Days: 1 } }, { ID: 'x', Status: 'Enabled', Filter: { Prefix: 'b' }, Expiration: { Days: 2 } }])).toEqual([400, 'InvalidArgument']);
    expect(await failure([{ ID: 't', Status: 'Enabled', Filter: { Prefix: '' }, Transitions: [{ Days: 30, StorageClass: 'GLACIER' }] }])).toEqual([501, 'NotImplemented']);
    expect(await failure([{ ID: 'ok', Status: 'Enabled', Filter: {}, Expiration: { ExpiredObjectDeleteMarker: true } }])).toBe('accepted');
    try {
      await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'life' + '-none' }));
    } catch (err) {
      expect((err as S3ServiceException).name).toBe('NoSuchBucket');
    }
  });
});
