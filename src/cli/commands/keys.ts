import { Command } from 'commander';

/** `offload keys`: owned by the server work; registered by main.ts. */
export function keysCommand(): Command {
  return new Command('keys').description('Manage access keys in a data folder');
}
