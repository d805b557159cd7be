/**
 * Pull-through origin buckets: GetObject and HeadObject of an origin bucket come here (through
 * s3's OriginPuller hook) with what the store holds. A user's own upload is answered as it is;
 * a fresh filled object is a HIT; a missing key is fetched from the origin once however many
 * clients ask (single flight), streamed to the first and stored; a stale one is revalidated.
 */
import { header } from '../s3/headers.js';
import { objectAccess, requireBucket } from '../s3/ops/_common.js';
import type { OriginPuller, Reply, RequestContext } from '../s3/context.js';
import type { ObjectMeta, ObjectReader, Store } from '../storage/types.js';
import type { AddressGuard } from './address-guard.js';
import { evictOverCapacity, purge, type PurgeResult } from './capacity.js';
import { bucketOrigin, type OriginConfig } from './config.js';
import { FillClaims } from './claims.js';
import { filledMark, type FilledMark } from './filled-meta.js';
import { freshness } from './freshness.js';
import { NegativeCache, OriginCounters, RecentReads, SingleFlight } from './memory.js';
import { labelled, labelledError, noSuchKey, type Outcome } from './outcome.js';
import { filledAcl, pull, passThrough, type PullEnv, type PullTarget } from './pull.js';

type ObjectCtx = RequestContext & { op: { bucket: string; key: string } };

export class OriginService implements OriginPuller {
  readonly counters = new OriginCounters();
  private readonly negative = new NegativeCache();
  private readonly reads = new RecentReads();
  private readonly flights = new SingleFlight<Outcome>();
  private readonly evictions = new Map<string, Promise<void>>();
  private readonly env: PullEnv;

  /** Claims shared with sibling worker processes (absent in unit use without a data folder). */
  private readonly claims: FillClaims | undefined;

  constructor(private readonly store: Store, guard: AddressGuard, dataDir?: string) {
    this.claims = dataDir === undefined ? undefined : new FillClaims(dataDir);
    this.env = { store, guard, counters: this.counters, negative: this.negative, onStored: (bucket, key, config) => this.afterFill(bucket, key, config) };
  }

  get(ctx: ObjectCtx, reader: ObjectReader | undefined, fromStore: (reader: ObjectReader | undefined) => Promise<Reply>): Promise<Reply> | undefined {
    const config = bucketOrigin(ctx.store, ctx.op.bucket);
    return config && this.serveGet(ctx, config, reader, fromStore);
  }

  head(ctx: ObjectCtx, meta: ObjectMeta | undefined, fromStore: (meta: ObjectMeta | undefined) => Promise<Reply>): Promise<Reply> | undefined {
    const config = bucketOrigin(ctx.store, ctx.op.bucket);
    return config && this.serveHead(ctx, config, meta, fromStore);
  }

  /** `offload purge`: filled objects at a key or under a prefix are deleted; the next GET refetches. */
  purge(bucket: string, target: { key: string } | { prefix: string }): Promise<PurgeResult> {
    return purge(this.store, bucket, target, this.negative);
  }

  private async serveGet(ctx: ObjectCtx, config: OriginConfig, reader: ObjectReader | undefined, fromStore: (reader: ObjectReader | undefined) => Promise<Reply>): Promise<Reply> {
    const { bucket, key } = ctx.op;
    const mark = reader && filledMark(reader.meta);
    if (reader && !mark) return this.count(bucket, labelled(fromStore(reader), 'HIT', 0), 'hits');
    const ranged = header(ctx.headers, 'range') !== undefined || ctx.query.get('partNumber') !== null;
    if (reader && mark) {
      this.reads.touch(`${bucket}/${key}`);
      const now = freshness(mark, Date.now());
      if (now.fresh) return this.count(bucket, labelled(fromStore(reader), 'HIT', now.age), 'hits');
      try {
        objectAccess(ctx, requireBucket(ctx), reader.meta, 'READ');
      } catch (err) {
        reader.close();
        throw err;
      }
      const target = this.target(ctx, config, { meta: reader.meta, mark });
      if (now.whileRevalidate) {
        this.inBackground(target);
        return this.count(bucket, labelled(fromStore(reader), 'STALE', now.age), 'stale');
      }
      // The stale copy stays pinned until the origin answers: it is the answer if the origin fails.
      const outcome = await this.fetchOnce(target, !ranged).catch((err: unknown) => {
        reader.close();
        throw err;
      });
      if ('reply' in outcome) {
        reader.close();
        return this.count(bucket, Promise.resolve(outcome.reply), 'misses');
      }
      if (outcome.kind === 'error' && now.ifError) return this.count(bucket, labelled(fromStore(reader), 'STALE', now.age), 'stale');
      reader.close();
      return this.settled(ctx, target, outcome, fromStore);
    }
    this.mayFill(ctx, config);
    if (this.negative.has(`${bucket}/${key}`)) return this.count(bucket, Promise.reject(noSuchKey(key, 'HIT')), 'hits');
    const target = this.target(ctx, config);
    if (ranged) {
      // The client's range straight from the origin, while the whole object fills behind it.
      this.inBackground(target);
      return this.count(bucket, passThrough(this.env, target, 'GET', header(ctx.headers, 'range')), 'misses');
    }
    const outcome = await this.fetchOnce(target, true);
    if ('reply' in outcome) return this.count(bucket, Promise.resolve(outcome.reply), 'misses');
    return this.settled(ctx, target, outcome, fromStore);
  }

  private async serveHead(ctx: ObjectCtx, config: OriginConfig, meta: ObjectMeta | undefined, fromStore: (meta: ObjectMeta | undefined) => Promise<Reply>): Promise<Reply> {
    const { bucket, key } = ctx.op;
    const mark = meta && filledMark(meta);
    if (meta && !mark) return this.count(bucket, labelled(fromStore(meta), 'HIT', 0), 'hits');
    if (meta && mark) {
      const now = freshness(mark, Date.now());
      if (now.fresh) return this.count(bucket, labelled(fromStore(meta), 'HIT', now.age), 'hits');
      // HEAD answers what is stored and has it revalidated for the GETs that follow.
      objectAccess(ctx, requireBucket(ctx), meta, 'READ');
      this.inBackground(this.target(ctx, config, { meta, mark }));
      return this.count(bucket, labelled(fromStore(meta), 'STALE', now.age), 'stale');
    }
    this.mayFill(ctx, config);
    if (this.negative.has(`${bucket}/${key}`)) return this.count(bucket, Promise.reject(noSuchKey(key, 'HIT')), 'hits');
    return this.count(bucket, passThrough(this.env, this.target(ctx, config), 'HEAD'), 'misses');
  }

  /**
   * The one origin fetch for the key: the caller that starts it gets the streaming answer; the
   * others (and a start that yields no body) get how it ended.
   */
  private async fetchOnce(target: PullTarget, withClient: boolean): Promise<{ reply: Reply } | Outcome> {
    const id = `${target.bucket}/${target.key}`;
    const running = this.flights.get(id);
    if (running) return running;
    let resolveReply!: (reply: Reply | undefined) => void;
    const first = new Promise<Reply | undefined>((r) => (resolveReply = r));
    const done = this.flights.start(id, async () => {
      // Another worker process is fetching it: wait for that, then answer from the store.
      const longest = target.config.connectTimeoutMs + 10 * target.config.readTimeoutMs;
      if (this.claims && !this.claims.tryClaim(id, longest)) {
        resolveReply(undefined);
        await this.claims.waitFor(id, longest);
        return this.afterOtherProcess(target);
      }
      const pulled = await pull(this.env, target, withClient).catch((err: unknown) => ({ reply: undefined, done: Promise.reject(err) }));
      resolveReply(pulled.reply);
      const release = () => this.claims?.release(id);
      pulled.done.then(release, release);
      return pulled.done;
    });
    const reply = await first;
    return reply ? { reply } : done;
  }

  /** What another process's fetch left: a stored (or refreshed) copy, or nothing to answer from. */
  private async afterOtherProcess(target: PullTarget): Promise<Outcome> {
    // The other process committed after this request's refresh(): look again, past this process's caches.
    await this.store.refresh();
    const meta = await this.store.headObject(target.bucket, target.key);
    const mark = meta && filledMark(meta);
    if (!mark || (target.previous && mark.fetchedAt <= target.previous.mark.fetchedAt)) return { kind: 'unstored', reason: "the other process's fetch stored nothing" };
    return { kind: target.previous && mark.etag === target.previous.mark.etag ? 'not-modified' : 'stored' };
  }

  private inBackground(target: PullTarget): void {
    if (this.flights.get(`${target.bucket}/${target.key}`)) return;
    this.fetchOnce(target, false).then(undefined, (err: unknown) => console.error(`offload: background origin fetch of ${target.bucket}/${target.key} failed: ${(err as Error).message}`));
  }

  /** The answer of a request that did not stream the origin's body itself. */
  private async settled(ctx: ObjectCtx, target: PullTarget, outcome: Outcome, fromStore: (reader: ObjectReader | undefined) => Promise<Reply>): Promise<Reply> {
    const { bucket, key } = target;
    switch (outcome.kind) {
      case 'stored':
      case 'not-modified': {
        const reader = await this.store.openObject(bucket, key);
        const label = outcome.kind === 'stored' ? 'MISS' : 'REVALIDATED';
        return this.count(bucket, labelled(fromStore(reader), label, 0), label === 'MISS' ? 'misses' : 'revalidated');
      }
      case 'not-found':
        return this.count(bucket, Promise.reject(noSuchKey(key, 'MISS')), 'misses');
      case 'unstored':
        return this.count(bucket, passThrough(this.env, target, 'GET', header(ctx.headers, 'range')), 'misses');
      case 'error':
        throw labelledError(outcome.error, 'MISS');
    }
  }

  /** Who may make a fill happen: those who may read the object it would become. */
  private mayFill(ctx: ObjectCtx, config: OriginConfig): void {
    const bucket = requireBucket(ctx);
    const wouldBe = { acl: filledAcl(config), owner: bucket.owner } as ObjectMeta;
    objectAccess(ctx, bucket, wouldBe, 'READ');
  }

  private target(ctx: ObjectCtx, config: OriginConfig, previous?: { meta: ObjectMeta; mark: FilledMark }): PullTarget {
    const forwarded: Record<string, string> = {};
    for (const name of config.forwardHeaders) {
      const value = header(ctx.headers, name);
      if (value !== undefined) forwarded[name] = value;
    }
    return { config, bucket: ctx.op.bucket, key: ctx.op.key, owner: ctx.store.getBucket(ctx.op.bucket)?.owner ?? '', forwarded, previous };
  }

  private count(bucket: string, answer: Promise<Reply>, name: 'hits' | 'misses' | 'revalidated' | 'stale'): Promise<Reply> {
    this.counters.add(bucket, name);
    return answer;
  }

  /** One eviction pass per bucket at a time; a fill during one is covered by the next. */
  private afterFill(bucket: string, key: string, config: OriginConfig): void {
    this.reads.touch(`${bucket}/${key}`);
    if (config.capacity === undefined || this.evictions.has(bucket)) return;
    const run = evictOverCapacity(this.store, bucket, config.capacity, this.reads, key)
      .then((n) => this.counters.add(bucket, 'evictions', n), (err: unknown) => console.error(`offload: eviction in ${bucket} failed: ${(err as Error).message}`))
      .finally(() => this.evictions.delete(bucket));
    this.evictions.set(bucket, run);
  }
}
