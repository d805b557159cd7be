/**
 * UsageRecorder with an asynchronous sink (PostgreSQL's shape): one write in flight at a time, a
 * flush asked for meanwhile runs after it (at most one queued), and a failed write's counts are
 * written with the next batch instead of being lost.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it, vi } from 'vitest';
import type { Store } from '../storage/types.js';
import type { UsageBatch } from './usage-pending.js';
import { UsageRecorder } from './usage.js';

/** A finished GET of `key`, as the request tap sees it. */
function answer(usage: UsageRecorder, key: string): void {
  const socket = { bytesWritten: 0, remoteAddress: '127.0.0.1' };
  const req = { method: 'GET', headers: {}, socket, url: `/b/${key}`, httpVersion: '1.1' } as unknown as IncomingMessage;
  const res = Object.assign(new EventEmitter(), { headersSent: true, statusCode: 200, writableFinished: true, getHeader: () => undefined }) as unknown as ServerResponse;
  Object.assign(usage.begin(req, res), { op: 'GetObject', bucket: 'b', key });
  res.emit('close');
}

const requestsOf = (batches: UsageBatch[]) => batches.flatMap((b) => b.objects).reduce((n, o) => n + o.requests, 0);

describe('UsageRecorder with an asynchronous sink', () => {
  it('writes one batch at a time, queues one flush behind it, and keeps the counts of a failed write', async () => {
    const written: UsageBatch[] = [];
    const calls: { batch: UsageBatch; settle: (ok: boolean) => void }[] = [];
    const sink = {
      write: (batch: UsageBatch) =>
        new Promise<void>((resolve, reject) => {
          calls.push({ batch, settle: (ok) => (ok ? (written.push(batch), resolve()) : reject(new Error('database unreachable'))) });
        }),
    };
    const store = { getBucket: () => undefined, getBucketConfig: () => undefined } as unknown as Store;
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const usage = new UsageRecorder(store, '/nonexistent', { sink, flushMs: 3_600_000 });
    expect(usage.db).toBeUndefined();

    answer(usage, 'a');
    const first = usage.flush();
    expect(calls).toHaveLength(1);
    answer(usage, 'b');
    const second = usage.flush();
    const third = usage.flush();
    expect(third).toBe(second); // one flush queued, not one per call
    expect(calls).toHaveLength(1); // nothing written while the first write is under way
    calls[0]!.settle(false);
    await first;
    expect(errors).toHaveBeenCalledTimes(1);
    // The queued flush now writes the failed batch's count together with the new one.
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(requestsOf([calls[1]!.batch])).toBe(2);
    calls[1]!.settle(true);
    await second;
    expect(requestsOf(written)).toBe(2);

    answer(usage, 'c');
    const closing = usage.close();
    await vi.waitFor(() => expect(calls).toHaveLength(3));
    calls[2]!.settle(true);
    await closing;
    expect(requestsOf(written)).toBe(3);
    // Closed: later requests are not counted.
    answer(usage, 'd');
    await usage.flush();
    expect(calls).toHaveLength(3);
    errors.mockRestore();
  });
});
