/**
 * One exit-code rule for every command (docs/cli.md): 0 done (and --help, --version), 1 the work
 * failed, 2 bad usage (unknown command or option, missing argument, invalid value), nothing tried.
 */
import { describe, expect, it } from 'vitest';
import { builtCliExists, runCli } from './harness.js';

const COMMANDS = ['serve', 'keys', 'sync', 'put', 'ls', 'cp', 'rm', 'mb', 'rb', 'presign', 'public', 'cors', 'stats', 'bucket', 'rewrite', 'check'];
/** A command line per command that lacks a required argument. */
const MISSING_ARGUMENT: string[][] = [
  ['sync', '.'], ['cp', 's3://media/a'], ['rm'], ['mb'], ['rb'], ['presign'], ['public'], ['cors'], ['stats'],
  ['bucket', 'rules'], ['rewrite', '--to', 'https://m.example/'], ['check', '--base', 'https://m.example/'], ['keys', 'delete'],
];
/** Required options, so that the unknown option is what the command trips on. */
const REQUIRED: Record<string, string[]> = { rewrite: ['--to', 'https://m.example/'], check: ['--base', 'https://m.example/'] };

describe.skipIf(!builtCliExists())('exit codes', () => {
  it.each(COMMANDS)('%s: an unknown option exits 2 with a one-line error', async (name) => {
    const res = await runCli(undefined, [name, ...(REQUIRED[name] ?? []), '--no-such-option-x']);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(/^error: unknown option '--no-such-option-x'/m);
  });

  it('a misspelt option exits 2 and suggests the right one', async () => {
    const res = await runCli(undefined, ['sync', '.', 's3://media', '--delet']);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("error: unknown option '--delet'");
    expect(res.stderr).toContain('(Did you mean --delete?)');
  });

  it.each(MISSING_ARGUMENT.map((args) => [args.join(' '), args] as const))('%s: a missing argument exits 2', async (_label, args) => {
    const res = await runCli(undefined, args);
    expect(res.code, res.stderr).toBe(2);
    expect(res.stderr).toMatch(/error: missing required argument/);
  });

  it('an unknown command, an invalid option value and a missing required option exit 2', async () => {
    for (const args of [['nosuch'], ['sync', '.', 's3://media', '--concurrency', 'lots'], ['rewrite', '.']]) {
      const res = await runCli(undefined, args);
      expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(2);
      expect(res.stderr).toMatch(/^(error|offload): /m);
    }
  });

  it('no command at all shows the help and exits 2; --help and --version exit 0', async () => {
    const none = await runCli(undefined, []);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: offload');
    for (const args of [['--help'], ['sync', '--help'], ['bucket', 'rules', '--help'], ['--version']]) {
      const res = await runCli(undefined, args);
      expect(res.code, args.join(' ')).toBe(0);
    }
  });

  it('usage errors found by a command itself exit 2 too', async () => {
    const res = await runCli(undefined, ['sync', '/nonexistent-folder-x', 's3://media']);
    expect(res.code).toBe(2);
    expect(res.stderr.trim()).toBe('offload: no such folder: /nonexistent-folder-x');
  });
});
