/**
 * Group commits sync the WAL off the event loop (src/storage/wal-sync.ts, item 12): every write
 * is answered only after an fdatasync that began after its commit; writes arriving while a sync
 * runs wait for it and share the next; close() waits for what is under way.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalSync } from '../../src/storage/wal-sync.js';

function walFile(): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'offload-walsync-'));
  const path = join(dir, 'meta.db-wal');
  writeFileSync(path, 'frames');
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

describe('WalSync', () => {
  it('calls back every waiter once its sync is done, in order, and holds later work until it is idle', async () => {
    const { path, cleanup } = walFile();
    const sync = new WalSync(path);
    const order: string[] = [];
    const done = (name: string) => new Promise<void>((resolve, reject) => sync.afterSync((err) => (err ? reject(err) : (order.push(name), resolve()))));
    const first = done('a');
    expect(sync.busy).toBe(true);
    const second = done('b');
    const third = done('c');
    let idleRan = false;
    sync.whenIdle(() => { idleRan = true; });
    expect(idleRan).toBe(false);
    await Promise.all([first, second, third]);
    expect(order).toEqual(['a', 'b', 'c']);
    await sync.close();
    expect(idleRan).toBe(true);
    expect(sync.busy).toBe(false);
    cleanup();
  });

  it('close() waits for a sync started by an idle callback', async () => {
    const { path, cleanup } = walFile();
    const sync = new WalSync(path);
    const results: string[] = [];
    sync.afterSync(() => results.push('first'));
    sync.whenIdle(() => sync.afterSync(() => results.push('queued')));
    await sync.close();
    expect(results).toEqual(['first', 'queued']);
    cleanup();
  });

  it('reports a WAL it cannot open to the waiters, and tries again for the next', async () => {
    const { path, cleanup } = walFile();
    const sync = new WalSync(`${path}-missing`);
    const err = await new Promise<Error | undefined>((r) => sync.afterSync(r));
    expect(err).toMatchObject({ code: 'ENOENT' });
    writeFileSync(`${path}-missing`, 'now here');
    expect(await new Promise<Error | undefined>((r) => sync.afterSync(r))).toBeUndefined();
    await sync.close();
    cleanup();
  });
});
