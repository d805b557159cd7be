/**
 * The in-memory side of usage statistics: one worker's counts since its last flush, aggregated
 * per object per hour and per operation/status, so recording a request costs a few Map
 * operations. `take()` hands the batch to the database writer and starts a new one.
 */

/** Upper bounds (seconds) of the request latency histogram; a last, implicit bucket is +Inf. */
export const LATENCY_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

/** The counters kept per object per hour, and summed in reports. */
export interface Counters {
  requests: number;
  bytesOut: number;
  bytesIn: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  anonymous: number;
  signed: number;
  /** PUT-class requests (writes, copies, uploads), billed per 1,000 in S3's price list. */
  puts: number;
  /** GET-class requests (reads, HEADs), billed per 10,000; deletes are neither. */
  gets: number;
}

export interface ObjectCounts extends Counters {
  bucket: string;
  key: string;
  hour: number;
  /** Referrer host -> requests. */
  referrers: Map<string, number> | undefined;
}

export interface OpCounts {
  op: string;
  status: number;
  requests: number;
  bytesIn: number;
  bytesOut: number;
  seconds: number;
}

export interface OpLatency {
  op: string;
  /** Non-cumulative counts, one per LATENCY_BOUNDS entry plus the +Inf bucket. */
  buckets: number[];
}

export interface UsageBatch {
  objects: ObjectCounts[];
  ops: OpCounts[];
  latency: OpLatency[];
  /** Named counters added as they are (cache_hits, cache_misses). */
  totals: Record<string, number>;
}

/** One finished (or aborted) request, as the request tap saw it. */
export interface RequestSample {
  op: string;
  bucket: string | undefined;
  key: string | undefined;
  status: number;
  bytesIn: number;
  bytesOut: number;
  signed: boolean;
  /** The Referer header's host, '' when none. */
  referrerHost: string;
  seconds: number;
  /** Epoch ms when the request ended. */
  now: number;
}

const classes = new Map<string, 'put' | 'get' | 'free'>();

/** S3's request price classes: writes and copies, reads, and (free) deletes and aborts. */
export function requestClass(op: string): 'put' | 'get' | 'free' {
  let kind = classes.get(op);
  if (kind === undefined) {
    kind = /^(Delete|Abort)/.test(op) ? 'free' : /^(Put|Copy|Upload|Create|Complete|Post)/.test(op) ? 'put' : 'get';
    classes.set(op, kind);
  }
  return kind;
}

export class PendingUsage {
  private objects = new Map<string, ObjectCounts>();
  private ops = new Map<string, OpCounts>();
  private latency = new Map<string, OpLatency>();
  private totals: Record<string, number> = {};

  /** Adds to a named counter (e.g. hot-cache hits since the last flush). */
  add(name: string, n: number): void {
    if (n !== 0) this.totals[name] = (this.totals[name] ?? 0) + n;
  }

  get size(): number {
    return this.objects.size + this.ops.size + Object.keys(this.totals).length;
  }

  record(s: RequestSample): void {
    const opKey = `${s.op} ${s.status}`;
    let oc = this.ops.get(opKey);
    if (oc === undefined) {
      oc = { op: s.op, status: s.status, requests: 0, bytesIn: 0, bytesOut: 0, seconds: 0 };
      this.ops.set(opKey, oc);
    }
    oc.requests++;
    oc.bytesIn += s.bytesIn;
    oc.bytesOut += s.bytesOut;
    oc.seconds += s.seconds;

    let lat = this.latency.get(s.op);
    if (lat === undefined) {
      lat = { op: s.op, buckets: new Array<number>(LATENCY_BOUNDS.length + 1).fill(0) };
      this.latency.set(s.op, lat);
    }
    let i = 0;
    while (i < LATENCY_BOUNDS.length && s.seconds > LATENCY_BOUNDS[i]!) i++;
    lat.buckets[i]!++;

    if (s.bucket === undefined || s.key === undefined) return;
    const hour = Math.floor(s.now / 3_600_000);
    const objKey = `${s.bucket}\n${s.key}\n${hour}`;
    let c = this.objects.get(objKey);
    if (c === undefined) {
      c = { bucket: s.bucket, key: s.key, hour, requests: 0, bytesOut: 0, bytesIn: 0, s2xx: 0, s3xx: 0, s4xx: 0, s5xx: 0, anonymous: 0, signed: 0, puts: 0, gets: 0, referrers: undefined };
      this.objects.set(objKey, c);
    }
    c.requests++;
    c.bytesOut += s.bytesOut;
    c.bytesIn += s.bytesIn;
    if (s.status < 300) c.s2xx++;
    else if (s.status < 400) c.s3xx++;
    else if (s.status < 500) c.s4xx++;
    else c.s5xx++;
    if (s.signed) c.signed++;
    else c.anonymous++;
    const kind = requestClass(s.op);
    if (kind === 'put') c.puts++;
    else if (kind === 'get') c.gets++;
    if (s.referrerHost !== '') {
      c.referrers ??= new Map();
      c.referrers.set(s.referrerHost, (c.referrers.get(s.referrerHost) ?? 0) + 1);
    }
  }

  /** The batch so far; the next requests start a new one. */
  take(): UsageBatch {
    const batch: UsageBatch = { objects: [...this.objects.values()], ops: [...this.ops.values()], latency: [...this.latency.values()], totals: this.totals };
    this.totals = {};
    this.objects = new Map();
    this.ops = new Map();
    this.latency = new Map();
    return batch;
  }

  /** Puts a batch that could not be written back, so its counts are not lost. */
  restore(batch: UsageBatch): void {
    const again = this.take();
    this.merge(batch);
    this.merge(again);
  }

  private merge(batch: UsageBatch): void {
    for (const [name, n] of Object.entries(batch.totals)) this.add(name, n);
    for (const o of batch.objects) {
      const k = `${o.bucket}\n${o.key}\n${o.hour}`;
      const c = this.objects.get(k);
      if (c === undefined) {
        this.objects.set(k, o);
        continue;
      }
      c.requests += o.requests;
      c.bytesOut += o.bytesOut;
      c.bytesIn += o.bytesIn;
      c.s2xx += o.s2xx;
      c.s3xx += o.s3xx;
      c.s4xx += o.s4xx;
      c.s5xx += o.s5xx;
      c.anonymous += o.anonymous;
      c.signed += o.signed;
      c.puts += o.puts;
      c.gets += o.gets;
      for (const [host, n] of o.referrers ?? []) {
        c.referrers ??= new Map();
        c.referrers.set(host, (c.referrers.get(host) ?? 0) + n);
      }
    }
    for (const o of batch.ops) {
      const k = `${o.op} ${o.status}`;
      const c = this.ops.get(k);
      if (c === undefined) this.ops.set(k, o);
      else {
        c.requests += o.requests;
        c.bytesIn += o.bytesIn;
        c.bytesOut += o.bytesOut;
        c.seconds += o.seconds;
      }
    }
    for (const l of batch.latency) {
      const c = this.latency.get(l.op);
      if (c === undefined) this.latency.set(l.op, l);
      else l.buckets.forEach((n, i) => (c.buckets[i]! += n));
    }
  }
}
