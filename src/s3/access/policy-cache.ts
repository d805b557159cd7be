/** Parsed bucket policies, kept until the stored text changes (policies are read on every request). */
import { parsePolicy, type Policy } from './bucket-policy.js';
import type { Store } from '../../storage/types.js';

const cache = new Map<string, { text: string; policy: Policy }>();

export function bucketPolicy(store: Store, bucket: string): Policy | undefined {
  const text = store.getBucketConfig(bucket, 'policy');
  if (text === undefined) {
    cache.delete(bucket);
    return undefined;
  }
  const hit = cache.get(bucket);
  if (hit && hit.text === text) return hit.policy;
  const policy = parsePolicy(text, bucket);
  cache.set(bucket, { text, policy });
  return policy;
}
