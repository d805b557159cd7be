/**
 * The `offload` command line: one commander program, one module per command under commands/.
 * Errors a user can fix are printed as one line and exit non-zero; stack traces only with OFFLOAD_DEBUG.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { serveCommand } from './commands/serve.js';
import { keysCommand } from './commands/keys.js';
import { syncCommand } from './commands/sync.js';
import { putCommand } from './commands/put.js';
import { lsCommand } from './commands/ls.js';
import { cpCommand } from './commands/cp.js';
import { rmCommand } from './commands/rm.js';
import { mbCommand } from './commands/mb.js';
import { rbCommand } from './commands/rb.js';
import { presignCommand } from './commands/presign.js';
import { publicCommand } from './commands/public.js';
import { corsCommand } from './commands/cors.js';
import { rewriteCommand } from './commands/rewrite.js';
import { checkCommand } from './commands/check.js';
import { statsCommand } from './commands/stats.js';

/** Each entry builds one top-level command. Add new commands here. */
const COMMANDS: (() => Command)[] = [serveCommand, keysCommand, rewriteCommand, checkCommand, syncCommand, putCommand, lsCommand, cpCommand, rmCommand, mbCommand, rbCommand, presignCommand, publicCommand, corsCommand, statsCommand];

export function buildProgram(): Command {
  const program = new Command('offload')
    .description('Offload: an S3-compatible media server, the upload tool for it, and template helpers')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `
Examples:
  offload serve --data ./data                              # the media server, keys printed on first start
  export AWS_ENDPOINT_URL=http://127.0.0.1:9000 AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...
  offload mb s3://media && offload public s3://media       # a bucket anyone can read
  offload sync ./public/media s3://media --delete          # upload what changed, right Content-Type
  find . -type f -name '*.css' | offload put s3://media    # upload a list of files
  offload check ./dist --base http://127.0.0.1:9000/media/ # every referenced media URL exists

Connection options (--endpoint, --region, --profile) go after the command name.
offload COMMAND --help shows each command's options and examples.`)
    .exitOverride();
  for (const make of COMMANDS) program.addCommand(make().exitOverride());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version requests end here too, with exit code 0.
      process.exitCode = err.exitCode;
      return;
    }
    const message = err instanceof Error ? err.message : String(err);
    console.error(`offload: ${message}`);
    if (process.env.OFFLOAD_DEBUG && err instanceof Error) console.error(err.stack);
    process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 1;
  }
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
