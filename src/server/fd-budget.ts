/**
 * How many client connections one server process can hold without running out of file
 * descriptors. Past the limit `accept` fails and, worse, so does opening a blob file or the
 * database's WAL: the process keeps its listening socket and drops requests without an answer.
 * So the default connection cap comes from the open-files limit, minus what the process itself
 * keeps open, and halved because every connection may hold one blob file too (an upload being
 * written, a download of a file not already in the descriptor cache).
 */
import { readFileSync } from 'node:fs';

/** Descriptors kept open by the blob descriptor cache when idle (storage/fd-cache.ts, its `max`). */
export const FD_CACHE_DESCRIPTORS = 128;
/**
 * The rest of the process: three SQLite databases with their WAL and shared-memory files, the
 * data-folder lock, stdio, epoll/eventfd and the libuv thread pool, the listening sockets, and
 * the few over-cap sockets that get a 503 answer (connection-cap.ts).
 */
export const PROCESS_DESCRIPTORS = 96;
export const RESERVED_DESCRIPTORS = FD_CACHE_DESCRIPTORS + PROCESS_DESCRIPTORS;

/** The soft "Max open files" of this process, from /proc/self/limits (undefined when unknown or unlimited). */
export function openFilesLimit(limitsText?: string): number | undefined {
  let text = limitsText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8');
    } catch {
      return undefined;
    }
  }
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m || m[1] === 'unlimited') return undefined;
  const n = Number(m[1]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Without a readable limit (not Linux): as if it were the common 1024. */
const ASSUMED_LIMIT = 1024;

/** The largest --max-connections this process can honour: one descriptor per connection. */
export function maxConnectionsCeiling(limit = openFilesLimit() ?? ASSUMED_LIMIT): number {
  return Math.max(1, limit - RESERVED_DESCRIPTORS);
}

/** The default cap: half the descriptors left after the reserve, so each connection can also hold a blob file. */
export function defaultMaxConnections(limit = openFilesLimit() ?? ASSUMED_LIMIT): number {
  return Math.max(16, Math.floor(maxConnectionsCeiling(limit) / 2));
}
