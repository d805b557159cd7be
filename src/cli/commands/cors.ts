/** `offload cors s3://bucket --origin URL`: let pages on these origins fetch the bucket's objects. */
import { Command } from 'commander';
import { addConnectionOptions } from '../s3/client.js';
import { clientFor, CONNECTION_HELP, friendly } from '../s3/command.js';
import { usage } from '../s3/errors.js';
import { corsRule, putCors } from '../s3/bucket.js';
import { parsePositiveInt, parseS3Url } from '../s3/keys.js';

interface CorsOptions {
  origin?: string[];
  maxAge: number;
  print?: boolean;
}

export function corsCommand(): Command {
  const cmd = new Command('cors')
    .description('Set the bucket CORS rule: GET/HEAD from the given origins, any request header, ETag etc. exposed')
    .argument('<bucket>', 's3://bucket')
    .option('--origin <url>', "allowed origin, e.g. https://www.example.com (repeatable; '*' for any)", (v: string, p: string[] | undefined) => [...(p ?? []), v])
    .option('--max-age <seconds>', 'how long browsers may cache the preflight answer', parsePositiveInt('--max-age'), 3000)
    .option('--print', 'print the CORS rule instead of applying it');
  addConnectionOptions(cmd);
  cmd.addHelpText('after', `
The bucket's CORS configuration is replaced by this one rule.
${CONNECTION_HELP}

Examples:
  offload cors s3://media --origin https://www.example.com
  offload cors s3://media --origin https://example.com --origin https://www.example.com`);
  cmd.action(friendly(async (url: string, opts: CorsOptions, self: Command) => {
    const loc = parseS3Url(url);
    if (loc.prefix) usage('CORS applies to a whole bucket: give s3://bucket without a key');
    const origins = opts.origin ?? [];
    if (origins.length === 0) usage("give at least one --origin (e.g. --origin https://www.example.com, or '*')");
    for (const o of origins) if (o !== '*' && !/^https?:\/\/[^/\s]+$/i.test(o)) usage(`--origin must look like https://www.example.com (no path), got ${o}`);
    const rule = corsRule(origins, opts.maxAge);
    if (opts.print) {
      console.log(JSON.stringify({ CORSRules: [rule] }, null, 2));
      return;
    }
    const { client } = clientFor(self);
    try {
      await putCors(client, loc.bucket, rule);
      console.log(`s3://${loc.bucket}: CORS allows GET/HEAD from ${origins.join(', ')}`);
    } finally {
      client.destroy();
    }
  }));
  return cmd;
}
