/** `offload check`: verify a site's media references resolve to public objects of the right type. */
import { Command } from 'commander';
import { checkSite, formatProblem } from '../../templates/check.js';
import { objectExistsFromEnv } from '../../templates/head-object.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

interface CheckCliOptions {
  base: string;
  endpoint?: string;
  bucket?: string;
  prefix?: string;
  oldBase: string | false;
  exclude: string[];
  page: string[];
  json?: boolean;
}

export function checkCommand(): Command {
  return new Command('check')
    .description('Check every media reference of a built site (folder) or a running app (URL): object exists, is public, and has a fitting Content-Type')
    .argument('<dir-or-url>', 'a built site folder, or http(s) URL of a page of the running app')
    .requiredOption('--base <url>', 'the media base the pages use, e.g. https://media.example.com/')
    .option('--endpoint <url>', 'S3 endpoint to probe objects at (base must be ENDPOINT/bucket/ unless --bucket); with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY set, missing and private objects are told apart')
    .option('--bucket <name>', 'with --endpoint: the bucket behind a custom-domain base')
    .option('--prefix <prefix>', 'with --bucket: key prefix of the media set', '')
    .option('--old-base <path>', 'the old local media path to flag', '/media/')
    .option('--no-old-base', 'do not flag references to the old media path')
    .option('--exclude <glob>', 'skip matching files of the folder (repeatable)', collect, [])
    .option('--page <url>', 'another page of the app to check (repeatable)', collect, [])
    .option('--json', 'one JSON object per problem')
    .addHelpText('after', '\nExamples:\n  offload check dist --base https://media.example.com/\n  offload check http://localhost:3000/ --base http://localhost:9000/media/ --endpoint http://localhost:9000')
    .action(async (target: string, opts: CheckCliOptions) => {
      const result = await checkSite({
        target,
        base: opts.base,
        endpoint: opts.endpoint,
        bucket: opts.bucket,
        prefix: opts.prefix,
        oldBase: opts.oldBase === false ? '' : opts.oldBase,
        exclude: opts.exclude,
        pages: opts.page,
        fetch: globalThis.fetch,
        objectExists: opts.endpoint ? objectExistsFromEnv(opts.endpoint) : undefined,
      });
      for (const p of result.problems) console.log(opts.json ? JSON.stringify(p) : formatProblem(p));
      const errors = result.problems.filter((p) => p.severity === 'error').length;
      const warnings = result.problems.length - errors;
      if (!opts.json) {
        console.error(`${result.documents.length} document(s), ${result.references} media reference(s), ${result.objects} object(s): ${errors} error(s), ${warnings} warning(s)`);
      }
      if (errors > 0) process.exitCode = 1;
    });
}
