/** `offload rewrite`: point a static site's media references at the bucket, in place. */
import { Command } from 'commander';
import { loadManifestSync } from '../../templates/manifest.js';
import { rewriteSite } from '../../templates/rewrite.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function rewriteCommand(): Command {
  return new Command('rewrite')
    .description('Rewrite media references in a built static site (HTML and CSS) to the bucket, hashed where the manifest knows the file')
    .argument('<dir>', 'the built site folder')
    .requiredOption('--to <url>', 'the bucket base URL, e.g. https://media.example.com/')
    .option('--from <path>', 'the media path the pages use now', '/media/')
    .option('--manifest <file>', 'offload-manifest.json from `offload sync --hash`')
    .option('--exclude <glob>', 'leave matching files alone (repeatable)', collect, [])
    .option('--include-pages', 'also rewrite <a href>, iframe src and form action under --from')
    .option('--dry-run', 'print the changes without writing files')
    .addHelpText('after', '\nExample:\n  offload rewrite dist --from /media/ --to https://media.example.com/ --manifest offload-manifest.json')
    .action(async (dir: string, opts: { to: string; from: string; manifest?: string; exclude: string[]; includePages?: boolean; dryRun?: boolean }) => {
      const manifest = opts.manifest ? loadManifestSync(opts.manifest) : undefined;
      const result = await rewriteSite({
        dir,
        from: opts.from,
        to: opts.to,
        manifest,
        exclude: opts.exclude,
        includePages: opts.includePages,
        dryRun: opts.dryRun,
      });
      for (const c of result.changes) console.log(`${c.file}:${c.line} ${c.old} → ${c.new}`);
      for (const w of result.warnings) console.error(`warning: ${w}`);
      const verb = opts.dryRun ? 'would change' : 'changed';
      console.log(`${result.changes.length} reference(s) ${verb} in ${result.filesChanged.length} file(s)`);
    });
}
