/**
 * The lifecycle sweep: applies each bucket's lifecycle rules (lifecycle-rules.ts). Cheap on large
 * buckets: every action reads only what is due, from an index by age (objects_by_age for current
 * versions, versions_by_age for noncurrent ones, versions_markers for delete markers), a batch at
 * a time; each expiry is its own committed write through the same paths a DELETE takes, so a
 * sweep stopped anywhere (a crash, a restart) leaves consistent state and the next one simply
 * finds less to do. The clock is injectable: tests run years of lifecycle in seconds.
 */
import { readFileSync } from 'node:fs';
import type { Statement } from 'better-sqlite3';
import type { Buckets } from './buckets.js';
import type { Multipart } from './multipart.js';
import { decodeMeta, type Objects } from './objects.js';
import type { Db } from './schema.js';
import { applyRule, parseStoredRules, type LifecycleActions, rulePrefix, ruleMatches, type LifecycleRule } from './lifecycle-rules.js';
import { decodeVersion, type VersionRow } from './versions.js';

const BATCH = 500;
const SWEEP_EVERY_MS = 3600 * 1000;

/**
 * The clock the sweep reads. For tests only: OFFLOAD_TEST_CLOCK_FILE names a file holding the
 * current time in ms (read at each sweep), and the sweep then runs every
 * OFFLOAD_TEST_LIFECYCLE_SWEEP_MS (default 200 ms) instead of hourly.
 */
export function clockFromEnv(): { now: () => number; everyMs: number } {
  const file = process.env.OFFLOAD_TEST_CLOCK_FILE;
  if (!file) return { now: Date.now, everyMs: SWEEP_EVERY_MS };
  const now = () => {
    try {
      const ms = Number(readFileSync(file, 'utf8').trim());
      return Number.isFinite(ms) && ms > 0 ? ms : Date.now();
    } catch {
      return Date.now();
    }
  };
  return { now, everyMs: Number(process.env.OFFLOAD_TEST_LIFECYCLE_SWEEP_MS) || 200 };
}

export class LifecycleSweep implements LifecycleActions {
  private readonly sql: {
    dueCurrent: Statement<[string, number, number, string, number], { key: string; meta: string; modified: number }>;
    dueNoncurrent: Statement<[string, number, number, string, number, number], VersionRow>;
    markers: Statement<[string, number, string, number, number], VersionRow>;
    newerNoncurrent: Statement<[string, string, number], { n: number }>;
    keyVersions: Statement<[string, string, string, string], { n: number }>;
  };
  private running = false;

  constructor(db: Db, private readonly objects: Objects, private readonly buckets: Buckets, private readonly multipart: Multipart) {
    this.sql = {
      dueCurrent: db.prepare('SELECT key, meta, modified FROM objects WHERE bucket = ? AND modified <= ? AND (modified, key) > (?, ?) ORDER BY modified, key LIMIT ?'),
      dueNoncurrent: db.prepare('SELECT * FROM versions WHERE bucket = ? AND since <= ? AND (since, key, neg_seq) > (?, ?, ?) AND marker = 0 ORDER BY since, key, neg_seq LIMIT ?'),
      markers: db.prepare('SELECT * FROM versions WHERE bucket = ? AND marker = 1 AND (since, key, neg_seq) > (?, ?, ?) ORDER BY since, key, neg_seq LIMIT ?'),
      newerNoncurrent: db.prepare('SELECT COUNT(*) AS n FROM versions WHERE bucket = ? AND key = ? AND neg_seq < ? AND marker = 0'),
      keyVersions: db.prepare('SELECT (SELECT COUNT(*) FROM objects WHERE bucket = ? AND key = ?) + (SELECT COUNT(*) FROM versions WHERE bucket = ? AND key = ?) AS n'),
    };
  }

  /** One pass over every bucket with rules; returns how many versions, markers and uploads it removed. */
  async sweep(now: number): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let removed = 0;
    try {
      for (const bucket of this.buckets.list()) {
        const rules = parseStoredRules(this.buckets.getConfig(bucket.name, 'lifecycle')).filter((r) => r.status === 'Enabled');
        for (const rule of rules) removed += await this.apply(bucket.name, rule, now);
      }
    } finally {
      this.running = false;
    }
    return removed;
  }

  private apply(bucket: string, rule: LifecycleRule, now: number): Promise<number> {
    return applyRule(this, bucket, rule, now);
  }

  /** Current versions due: deleted as a DELETE would (a delete marker in a versioned bucket). */
  async expireCurrent(bucket: string, rule: LifecycleRule, cutoff: number): Promise<number> {
    let removed = 0;
    let after = { modified: -Infinity, key: '' };
    for (;;) {
      const rows = this.sql.dueCurrent.all(bucket, cutoff, after.modified, after.key, BATCH);
      if (rows.length === 0) return removed;
      const due = rows.filter((r) => ruleMatches(rule, decodeMeta(bucket, r.key, r.meta)));
      await Promise.all(due.map((r) => this.objects.delete(bucket, r.key)));
      removed += due.length;
      const last = rows.at(-1)!;
      after = { modified: last.modified, key: last.key };
    }
  }

  /** Noncurrent versions due, except the newest `keep` noncurrent versions of each key. */
  async expireNoncurrent(bucket: string, rule: LifecycleRule, cutoff: number, keep: number): Promise<number> {
    let removed = 0;
    let after = { since: -Infinity, key: '', negSeq: -Infinity };
    for (;;) {
      const rows = this.sql.dueNoncurrent.all(bucket, cutoff, after.since, after.key, after.negSeq, BATCH);
      if (rows.length === 0) return removed;
      for (const row of rows) {
        const meta = decodeVersion(bucket, row);
        if (!ruleMatches(rule, meta)) continue;
        if (keep > 0 && this.sql.newerNoncurrent.get(bucket, row.key, row.neg_seq)!.n < keep) continue;
        await this.objects.delete(bucket, row.key, row.version_id);
        removed++;
      }
      const last = rows.at(-1)!;
      after = { since: last.since, key: last.key, negSeq: last.neg_seq };
    }
  }

  /** Delete markers that are their key's only version. */
  async removeLoneMarkers(bucket: string, rule: LifecycleRule): Promise<number> {
    let removed = 0;
    let after = { since: -Infinity, key: '', negSeq: -Infinity };
    for (;;) {
      const rows = this.sql.markers.all(bucket, after.since, after.key, after.negSeq, BATCH);
      if (rows.length === 0) return removed;
      for (const row of rows) {
        if (!row.key.startsWith(rulePrefix(rule))) continue;
        if (this.sql.keyVersions.get(bucket, row.key, bucket, row.key)!.n !== 1) continue;
        await this.objects.delete(bucket, row.key, row.version_id);
        removed++;
      }
      const last = rows.at(-1)!;
      after = { since: last.since, key: last.key, negSeq: last.neg_seq };
    }
  }

  /** LifecycleActions (lifecycle-rules.ts). */
  async abortUploads(bucket: string, rule: LifecycleRule, cutoff: number): Promise<number> {
    let removed = 0;
    let marker: { keyMarker?: string; uploadIdMarker?: string } = {};
    for (;;) {
      const page = this.multipart.listUploads(bucket, { prefix: rulePrefix(rule) || undefined, ...marker, maxUploads: BATCH });
      for (const upload of page.uploads) {
        if (upload.initiated > cutoff) continue;
        await this.multipart.abort(upload.uploadId).catch(() => undefined);
        removed++;
      }
      const last = page.uploads.at(-1);
      if (!page.isTruncated || !last) return removed;
      marker = { keyMarker: last.key, uploadIdMarker: last.uploadId };
    }
  }
}

/** Runs the sweep on the clock's schedule; returns the function that stops it. */
export function startLifecycle(sweep: LifecycleSweep, clock: { now: () => number; everyMs: number }): () => void {
  const timer = setInterval(() => void sweep.sweep(clock.now()).catch(() => undefined), clock.everyMs);
  // The sweep alone keeps no process alive.
  timer.unref();
  return () => clearInterval(timer);
}
