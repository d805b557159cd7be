import { Command } from 'commander';

/** `offload serve`: owned by the server work; registered by main.ts. */
export function serveCommand(): Command {
  return new Command('serve').description('Run the S3-compatible media server').action(() => {
    throw new Error('not built yet');
  });
}
