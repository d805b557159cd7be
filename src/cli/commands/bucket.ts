/**
 * `offload bucket rules s3://bucket`: a bucket's cache rules on an Offload server (the
 * Cache-Control its objects get by type or key when they have none; see docs/serving.md).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { addAdminOptions, adminConnection, jsonOrThrow, signedRequest } from '../admin-client.js';
import { parseS3Url } from '../s3/keys.js';
import type { CacheRule } from '../../media/cache-rules.js';
import { originCommand } from './bucket-origin.js';
import { bucketVersioningCommand } from './bucket-versioning.js';
import { bucketLimitsCommand } from './bucket-limits.js';

interface RulesOptions {
  list?: boolean;
  set?: string;
  add: string[];
  addKey: string[];
  clear?: boolean;
  json?: boolean;
  endpoint?: string;
  region?: string;
  accessKey?: string;
  secretKey?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function bucketCommand(): Command {
  const bucket = new Command('bucket').description("Manage an Offload bucket's serving settings");
  const rules = new Command('rules')
    .description('Show or change the Cache-Control rules of a bucket (objects with their own Cache-Control keep it)')
    .argument('<bucket>', 's3://bucket')
    .option('--list', 'print the rules (the default when nothing else is asked)')
    .option('--set <file>', 'replace the rules with a JSON document {"rules": [...]}')
    .option('--add <glob=value>', 'append a rule by Content-Type glob, e.g. "font/*=public, max-age=31536000, immutable" (repeatable)', collect, [])
    .option('--add-key <glob=value>', 'append a rule by key glob, e.g. "**/*.html=no-cache" (repeatable)', collect, [])
    .option('--clear', 'remove every rule')
    .option('--json', 'print the rules as JSON');
  addAdminOptions(rules)
    .addHelpText('after', `
Examples:
  offload bucket rules s3://media --add 'text/css=public, max-age=31536000, immutable' --add 'font/*=public, max-age=31536000, immutable'
  offload bucket rules s3://media --add-key '**/*.html=no-cache'
  offload bucket rules s3://media --list
  offload bucket rules s3://media --set rules.json
  offload bucket rules s3://media --clear`)
    .action(async (url: string, opts: RulesOptions) => {
      const name = parseS3Url(url).bucket;
      const conn = adminConnection(opts);
      const path = `/_offload/buckets/${encodeURIComponent(name)}/cache-rules`;
      let current: CacheRule[];
      if (opts.clear) {
        await jsonOrThrow(await signedRequest(conn, 'DELETE', path), conn.endpoint);
        current = [];
      } else {
        current = (await jsonOrThrow<{ rules: CacheRule[] }>(await signedRequest(conn, 'GET', path), conn.endpoint)).rules;
      }
      let next: CacheRule[] | undefined;
      if (opts.set !== undefined) next = (JSON.parse(readFileSync(opts.set, 'utf8')) as { rules?: CacheRule[] }).rules ?? [];
      const added = [...opts.add.map((a) => rule(a, 'contentType')), ...opts.addKey.map((a) => rule(a, 'key'))];
      if (added.length) next = [...(next ?? current), ...added];
      if (next !== undefined) {
        current = (await jsonOrThrow<{ rules: CacheRule[] }>(await signedRequest(conn, 'PUT', path, { body: JSON.stringify({ rules: next }) }), conn.endpoint)).rules;
      }
      if (opts.json) process.stdout.write(JSON.stringify({ bucket: name, rules: current }, null, 2) + '\n');
      else process.stdout.write(formatRules(name, current));
    });
  bucket.addCommand(rules);
  bucket.addCommand(originCommand());
  bucket.addCommand(bucketVersioningCommand());
  bucket.addCommand(bucketLimitsCommand());
  return bucket;
}

function rule(arg: string, field: 'contentType' | 'key'): CacheRule {
  const eq = arg.indexOf('=');
  if (eq <= 0 || eq === arg.length - 1) throw new Error(`expected GLOB=VALUE, got "${arg}"`);
  return { [field]: [arg.slice(0, eq).trim()], cacheControl: arg.slice(eq + 1).trim() };
}

export function formatRules(bucket: string, rules: CacheRule[]): string {
  if (rules.length === 0) return `${bucket}: no cache rules (objects are served with their own Cache-Control only)\n`;
  const lines = rules.map((r, i) => {
    const match = [r.contentType && `type ${r.contentType.join(', ')}`, r.key && `key ${r.key.join(', ')}`].filter(Boolean).join(' and ');
    return `${i + 1}. ${match} -> ${r.cacheControl}${r.expiresIn !== undefined ? ` (Expires in ${r.expiresIn}s)` : ''}`;
  });
  return `${bucket}: cache rules, first match wins\n${lines.join('\n')}\n`;
}
