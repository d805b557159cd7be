/**
 * The lifecycle sweep on PostgreSQL metadata (the rules of lifecycle-rules.ts, as the embedded
 * engine's lifecycle.ts applies them). Every node runs the timer; a session advisory lock
 * taken with pg_try_advisory_lock makes exactly one of them sweep at a time (the others skip
 * that round), and it is released by the unlock or by the connection's end when the node dies.
 * Each action reads only what is due, from an index by age (objects_by_age,
 * objects_noncurrent_by_age, objects_markers), a batch at a time; each expiry is its own
 * transaction that locks the version and checks it is still what the sweep read, so a write
 * another node makes meanwhile is never undone, and a sweep stopped anywhere leaves consistent state.
 */
import { applyRule, parseStoredRules, type LifecycleActions, rulePrefix, ruleMatches, type LifecycleRule } from '../lifecycle-rules.js';
import type { ObjectMeta } from '../types.js';
import type { PgDb } from './db.js';
import type { PgMultipart } from './multipart.js';
import { decodeMeta, type PgObjects } from './objects.js';
import type { PgState } from './state.js';

// The one-key advisory lock space; any fixed number apart from the migration lock's.
const SWEEP_LOCK = 0x0ff11fe;
const BATCH = 500;

type StoredMeta = Omit<ObjectMeta, 'bucket' | 'key'>;
type AgedRow = { key: string; version_id: string; seq: string; age: string; revision: string; meta: StoredMeta };

export const DUE_CURRENT = `SELECT key, version_id, seq::text, modified::text AS age, revision::text, meta FROM objects o
  WHERE bucket = $1 AND is_current AND modified <= $2 AND (modified, key) > ($3::bigint, $4) ORDER BY o.modified, o.key LIMIT ${BATCH}`;
export const DUE_NONCURRENT = `SELECT key, version_id, seq::text, since::text AS age, revision::text, meta FROM objects o
  WHERE bucket = $1 AND NOT is_current AND NOT marker AND since <= $2 AND (since, key, seq) > ($3::bigint, $4, $5::bigint) ORDER BY o.since, o.key, o.seq LIMIT ${BATCH}`;
export const MARKERS = `SELECT key, version_id, seq::text, since::text AS age, revision::text, meta FROM objects o
  WHERE bucket = $1 AND marker AND since <= $2 AND (since, key, seq) > ($3::bigint, $4, $5::bigint) ORDER BY o.since, o.key, o.seq LIMIT ${BATCH}`;

export class PgLifecycle implements LifecycleActions {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(private readonly db: PgDb, private readonly state: PgState, private readonly objects: PgObjects, private readonly multipart: PgMultipart) {}

  start(clock: { now: () => number; everyMs: number }): void {
    this.timer = setInterval(() => void this.sweep(clock.now()).catch(() => undefined), clock.everyMs);
    // The sweep alone keeps no process alive.
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass over every bucket with rules, unless another node is sweeping; returns how many versions, markers and uploads it removed. */
  sweep(now: number): Promise<number> {
    this.running ??= this.sweepIfFirst(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepIfFirst(now: number): Promise<number> {
    const lockHolder = await this.db.pool.connect();
    let broken = false;
    try {
      const { rows } = await lockHolder.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [SWEEP_LOCK]);
      if (!rows[0]!.got) return 0;
      try {
        // In the background there is no request to have refreshed the rules.
        await this.state.refresh();
        let removed = 0;
        for (const bucket of this.state.listBuckets()) {
          const rules = parseStoredRules(this.state.config(bucket.name, 'lifecycle')).filter((r) => r.status === 'Enabled');
          for (const rule of rules) removed += await this.apply(bucket.name, rule, now);
        }
        return removed;
      } finally {
        await lockHolder.query('SELECT pg_advisory_unlock($1)', [SWEEP_LOCK]).catch(() => (broken = true));
      }
    } catch (err) {
      broken = true;
      throw err;
    } finally {
      // A connection whose unlock failed is closed: its end releases the lock.
      lockHolder.release(broken);
    }
  }

  private apply(bucket: string, rule: LifecycleRule, now: number): Promise<number> {
    return applyRule(this, bucket, rule, now);
  }

  /** Rows of one index by age, from the oldest, a batch at a time; `act` says whether it removed the row's version. */
  private async walk(sql: string, bucket: string, cutoff: number, withSeq: boolean, act: (row: AgedRow) => Promise<boolean>): Promise<number> {
    let removed = 0;
    let after = { age: '-1', key: '', seq: '-1' };
    for (;;) {
      const params = [bucket, cutoff, after.age, after.key, ...(withSeq ? [after.seq] : [])];
      const { rows } = await this.db.read<AgedRow>(sql, params);
      for (const row of rows) if (await act(row)) removed++;
      const last = rows.at(-1);
      if (!last || rows.length < BATCH) return removed;
      after = { age: last.age, key: last.key, seq: last.seq };
    }
  }

  /** Current versions due: deleted as a DELETE would (a delete marker in a versioned bucket), if not rewritten meanwhile. */
  expireCurrent(bucket: string, rule: LifecycleRule, cutoff: number): Promise<number> {
    return this.walk(DUE_CURRENT, bucket, cutoff, false, async (row) => {
      if (!ruleMatches(rule, decodeMeta(bucket, row.key, row.meta))) return false;
      return this.objects.deleteIfStill(bucket, row.key, undefined, (locked) => locked.out_revision === row.revision);
    });
  }

  /** Noncurrent versions due, except the newest `keep` noncurrent versions of each key. */
  expireNoncurrent(bucket: string, rule: LifecycleRule, cutoff: number, keep: number): Promise<number> {
    return this.walk(DUE_NONCURRENT, bucket, cutoff, true, async (row) => {
      if (!ruleMatches(rule, decodeMeta(bucket, row.key, row.meta))) return false;
      return this.objects.deleteIfStill(bucket, row.key, row.version_id, async (locked, sql) => {
        if (locked.out_current || locked.out_marker) return false;
        if (keep === 0) return true;
        const newer = await sql.query<{ n: string }>('SELECT count(*)::text AS n FROM objects WHERE bucket = $1 AND key = $2 AND NOT is_current AND NOT marker AND seq > $3', [bucket, row.key, row.seq]);
        return Number(newer.rows[0]!.n) >= keep;
      });
    });
  }

  /** Delete markers that are their key's only version. */
  removeLoneMarkers(bucket: string, rule: LifecycleRule): Promise<number> {
    return this.walk(MARKERS, bucket, Number.MAX_SAFE_INTEGER, true, async (row) => {
      if (!row.key.startsWith(rulePrefix(rule))) return false;
      return this.objects.deleteIfStill(bucket, row.key, row.version_id, async (locked, sql) => {
        if (!locked.out_marker) return false;
        const all = await sql.query<{ n: string }>('SELECT count(*)::text AS n FROM objects WHERE bucket = $1 AND key = $2', [bucket, row.key]);
        return all.rows[0]!.n === '1';
      });
    });
  }

  /** LifecycleActions (lifecycle-rules.ts). */
  async abortUploads(bucket: string, rule: LifecycleRule, cutoff: number): Promise<number> {
    let removed = 0;
    let marker: { keyMarker?: string; uploadIdMarker?: string } = {};
    for (;;) {
      const page = await this.multipart.listUploads(bucket, { prefix: rulePrefix(rule) || undefined, ...marker, maxUploads: BATCH });
      for (const upload of page.uploads) {
        if (upload.initiated > cutoff) continue;
        // Completed or aborted by a client meanwhile: nothing left to do.
        if (await this.multipart.abort(upload.uploadId).then(() => true, () => false)) removed++;
      }
      const last = page.uploads.at(-1);
      if (!page.isTruncated || !last) return removed;
      marker = { keyMarker: last.key, uploadIdMarker: last.uploadId };
    }
  }
}
