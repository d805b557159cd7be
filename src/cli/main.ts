/**
 * The `offload` command line: one commander program, one module per command under commands/.
 * Errors a user can fix are printed as one line and exit non-zero; stack traces only with OFFLOAD_DEBUG.
 *
 * Exit codes, one rule for every command (docs/cli.md): 0 done, and for --help/--version; 1 the
 * work failed (an S3 error, a file that could not be sent, problems `check` found); 2 bad usage:
 * unknown command or option, missing or invalid argument, settings that cannot work (see
 * UsageError), found before anything was tried.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
type CommandLoader = () => Promise<Command>;

/**
 * Each entry builds one top-level command; add new commands here. Modules load on demand so
 * that `offload serve` (every server process) never loads the AWS SDK the upload commands use.
 */
const COMMANDS: Record<string, CommandLoader> = {
  serve: async () => (await import('./commands/serve.js')).serveCommand(),
  keys: async () => (await import('./commands/keys.js')).keysCommand(),
  sync: async () => (await import('./commands/sync.js')).syncCommand(),
  put: async () => (await import('./commands/put.js')).putCommand(),
  ls: async () => (await import('./commands/ls.js')).lsCommand(),
  cp: async () => (await import('./commands/cp.js')).cpCommand(),
  rm: async () => (await import('./commands/rm.js')).rmCommand(),
  mb: async () => (await import('./commands/mb.js')).mbCommand(),
  rb: async () => (await import('./commands/rb.js')).rbCommand(),
  presign: async () => (await import('./commands/presign.js')).presignCommand(),
  public: async () => (await import('./commands/public.js')).publicCommand(),
  cors: async () => (await import('./commands/cors.js')).corsCommand(),
  stats: async () => (await import('./commands/stats.js')).statsCommand(),
  bucket: async () => (await import('./commands/bucket.js')).bucketCommand(),
  purge: async () => (await import('./commands/purge.js')).purgeCommand(),
  versions: async () => (await import('./commands/versions.js')).versionsCommand(),
  restore: async () => (await import('./commands/restore.js')).restoreCommand(),
  undelete: async () => (await import('./commands/restore.js')).restoreCommand(),
  rewrite: async () => (await import('./commands/rewrite.js')).rewriteCommand(),
  check: async () => (await import('./commands/check.js')).checkCommand(),
  migrate: async () => (await import('./commands/migrate.js')).migrateCommand(),
};

/** The program with every command, or only `only` when the first argument names one (a fast start). */
export async function buildProgram(only?: string): Promise<Command> {
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
  // `undelete` is restore's alias: listed for the fast start only, never added twice.
  const names = only !== undefined && only in COMMANDS ? [only] : Object.keys(COMMANDS).filter((name) => name !== 'undelete');
  for (const command of await Promise.all(names.map((name) => COMMANDS[name]!()))) program.addCommand(command);
  throwInsteadOfExit(program);
  return program;
}

/** Commander errors of every command, nested ones too (`bucket rules`), reach main() instead of exiting. */
function throwInsteadOfExit(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) throwInsteadOfExit(sub);
}

/** Help and version requests end with exit code 0; every other commander error is bad usage. */
export const USAGE_EXIT_CODE = 2;

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv[0]);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message (or the help) already.
      process.exitCode = err.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
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
