/**
 * Reused buffers for medium bodies (up to 2 MiB) that a GET reads whole and sends with one write.
 * A fresh 1 MiB buffer per request cost a fifth of the CPU in garbage collection (V8 counts the
 * external memory and collects to keep it down) plus the page faults of new memory; a buffer is
 * handed back once the response holding it has finished. The pool keeps at most 16 MiB, and
 * buffers nobody took for a while are dropped, so memory goes back down after a burst.
 */
const CLASSES = [512 * 1024, 1024 * 1024, 2 * 1024 * 1024];
const MAX_POOLED_BYTES = 16 * 1024 * 1024;
const TRIM_MS = 10_000;

export interface PooledBuffer {
  bytes: Buffer;
  /** Gives the buffer back; call once nothing reads it any more (after the response finished). */
  recycle(): void;
}

const free: Buffer[][] = CLASSES.map(() => []);
let pooledBytes = 0;
let takenSinceTrim = false;

const trimmer = setInterval(() => {
  if (!takenSinceTrim) {
    for (const list of free) list.length = 0;
    pooledBytes = 0;
  }
  takenSinceTrim = false;
}, TRIM_MS);
trimmer.unref();

/** The smallest pooled size class that holds `size` bytes, or -1 when it is pooled no more. */
function classOf(size: number): number {
  for (let i = 0; i < CLASSES.length; i++) if (size <= CLASSES[i]!) return i;
  return -1;
}

export function takeBuffer(size: number): PooledBuffer {
  const c = classOf(size);
  if (c < 0 || size < CLASSES[0]! / 2) return { bytes: Buffer.allocUnsafe(size), recycle: () => undefined };
  takenSinceTrim = true;
  const reused = free[c]!.pop();
  if (reused) pooledBytes -= reused.length;
  const whole = reused ?? Buffer.allocUnsafeSlow(CLASSES[c]!);
  let given = false;
  return {
    bytes: whole.subarray(0, size),
    recycle: () => {
      if (given) return;
      given = true;
      if (pooledBytes + whole.length > MAX_POOLED_BYTES) return;
      free[c]!.push(whole);
      pooledBytes += whole.length;
    },
  };
}
