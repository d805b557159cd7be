/** The shapes of the console API's answers (docs/console.md, "API"). */
export interface Session {
  accessKeyId: string;
  displayName?: string;
  isRoot: boolean;
  scope?: { bucket?: string; access: KeyAccess };
  csrfToken: string;
  expiresAt?: string;
}

export interface Bucket {
  name: string;
  created: string;
  objects: number;
  bytes: number;
  public: boolean;
  website: boolean;
}

export interface ObjectSummary {
  key: string;
  size: number;
  lastModified: string;
  etag: string;
  contentType?: string;
}

export interface Listing {
  folders: string[];
  objects: ObjectSummary[];
  next?: string;
}

export interface ObjectDetails extends ObjectSummary {
  cacheControl?: string;
  /** Where the shown Cache-Control comes from. */
  cacheControlFrom?: 'object' | 'rule' | 'default';
  headers: Record<string, string>;
  metadata: Record<string, string>;
  public: boolean;
  publicUrl: string;
  websiteUrl?: string;
}

export interface CacheRule {
  match: string;
  cacheControl: string;
}

export interface BucketSettings {
  website: { enabled: boolean; indexDocument: string; errorDocument: string };
  cacheRules: CacheRule[];
  cors: { origins: string[]; methods: string[] };
  /** cname only for bucket names with a dot (a bucket named like the domain answers for it). */
  domain: { cname?: string; record: string; note?: string };
}

export type KeyAccess = 'read' | 'readwrite' | 'all';

export interface AccessKey {
  accessKeyId: string;
  name: string;
  scope: { bucket?: string; access: KeyAccess };
  created: string;
}

export interface NewKey extends AccessKey {
  secretAccessKey: string;
}

export interface StatsPoint {
  t: string;
  requests: number;
  bytesOut: number;
  s2xx: number;
  s4xx: number;
  s5xx: number;
}

export interface TopFile {
  key: string;
  requests: number;
  bytes: number;
}

export interface Prices {
  storagePerGbMonth: number;
  egressPerGb: number;
  requestsPer1000Get: number;
  requestsPer1000Put: number;
  currency?: string;
}

export interface Stats {
  series: StatsPoint[];
  topByRequests: TopFile[];
  topByBytes: TopFile[];
  topReferrers: { referrer: string; requests: number }[];
  totals: Record<string, number>;
  storageBytes: number;
  costEstimate?: { storage: number; egress: number; requests: number; total: number; currency: string };
}

export interface ServerInfo {
  version: string;
  endpoint: string;
  websiteEndpoint?: string;
  region: string;
  domain?: string;
}
