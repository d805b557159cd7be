/**
 * Output of the transfer commands: one line per action (text or --json), warnings and errors one
 * line each on stderr, a progress bar on a TTY, and a summary at the end.
 */
import cliProgress from 'cli-progress';
import { formatBytes } from './keys.js';
import { actionBytes, actionSource, actionTarget, type DeleteAction, type Events, type TransferAction } from './plan.js';

export interface ReporterOptions {
  json: boolean;
  dryRun: boolean;
  /** Show a progress bar (default: stderr is a TTY and not --json). */
  progress?: boolean;
  quiet?: boolean;
}

const VERBS: Record<string, string> = { upload: 'upload', headers: 'headers', download: 'download', copy: 'copy', delete: 'delete' };

export class Reporter implements Events {
  readonly counts = { uploaded: 0, headers: 0, downloaded: 0, copied: 0, skipped: 0, deleted: 0, failed: 0, shadowed: 0, compressed: 0 };
  /** Notes printed with the summary (e.g. headers that shadow the bucket's cache rules). */
  private readonly notes: string[] = [];
  bytes = 0;
  private readonly started = Date.now();
  private bar?: cliProgress.MultiBar;
  private fileBar?: cliProgress.SingleBar;
  private filesDone = 0;

  constructor(private readonly opts: ReporterOptions) {}

  get failed(): number {
    return this.counts.failed;
  }

  /** Starts the progress bar for this many actions and bytes (TTY only). */
  start(files: number, bytes: number): void {
    const show = this.opts.progress ?? (!!process.stderr.isTTY && !this.opts.json && !this.opts.dryRun);
    if (!show || files === 0) return;
    this.bar = new cliProgress.MultiBar(
      {
        stream: process.stderr,
        format: ' {bar} {files}/{totalFiles} files | {done}/{totalBytes} | {speed}/s | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    this.fileBar = this.bar.create(Math.max(1, bytes), 0, this.payload(files, bytes));
    this.totals = { files, bytes };
  }

  private totals = { files: 0, bytes: 0 };

  private payload(files = this.totals.files, bytes = this.totals.bytes) {
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000);
    return {
      files: this.filesDone,
      totalFiles: files,
      done: formatBytes(this.bytes),
      totalBytes: formatBytes(bytes),
      speed: formatBytes(Math.round(this.bytes / secs)),
    };
  }

  onBytes = (delta: number): void => {
    this.bytes += delta;
    this.fileBar?.update(Math.max(0, this.bytes), this.payload());
  };

  private line(stream: 'out' | 'err', text: string): void {
    if (this.bar) this.bar.log(text + '\n');
    else if (stream === 'out') process.stdout.write(text + '\n');
    else process.stderr.write(text + '\n');
  }

  /** An action done (or, with --dry-run, planned). */
  done(a: TransferAction | DeleteAction): void {
    if (a.op === 'upload') this.counts.uploaded++;
    else if (a.op === 'headers') this.counts.headers++;
    else if (a.op === 'download') this.counts.downloaded++;
    else if (a.op === 'copy') this.counts.copied++;
    else this.counts.deleted++;
    if (a.op !== 'delete') this.filesDone++;
    this.fileBar?.update(Math.max(0, this.bytes), this.payload());
    if (this.opts.quiet) return;
    const target = actionTarget(a);
    const source = a.op === 'delete' ? undefined : actionSource(a);
    if (this.opts.json) {
      const rec: Record<string, unknown> = { op: a.op, change: a.change };
      if ('bucket' in a) rec.bucket = a.bucket;
      if ('key' in a) rec.key = a.key;
      if (a.op === 'download' || (a.op === 'delete' && a.target === 'local')) rec.path = a.path;
      if (source) rec.source = source;
      if (a.op !== 'delete') rec.bytes = actionBytes(a);
      if (a.op === 'upload' || a.op === 'headers') {
        rec.contentType = a.contentType;
        rec.cacheControl = a.cacheControl;
      }
      if (this.opts.dryRun) rec.dryRun = true;
      this.line('out', JSON.stringify(rec));
      return;
    }
    const prefix = this.opts.dryRun ? '(dry run) ' : '';
    const verb = VERBS[a.op] ?? a.op;
    this.line('out', `${prefix}${verb}: ${source ? `${source} -> ` : ''}${target}`);
  }

  skipped(n: number): void {
    this.counts.skipped += n;
  }

  warn(message: string): void {
    if (this.opts.json) this.line('out', JSON.stringify({ op: 'warning', message }));
    this.line('err', `warning: ${message}`);
  }

  fail(subject: string, message: string): void {
    this.counts.failed++;
    if (this.opts.json) this.line('out', JSON.stringify({ op: 'error', subject, message }));
    this.line('err', `error: ${subject}: ${message}`);
  }

  /** Files stored with their own Cache-Control that differs from the bucket's rule for them, and why it matters. */
  shadowed(count: number, note: string | undefined): void {
    this.counts.shadowed = count;
    if (note) this.notes.push(note);
  }

  /** Compressions done for --precompress (0 on a re-run of an unchanged tree). */
  compressed(n: number): void {
    this.counts.compressed += n;
  }

  /** Stops the progress bar (idempotent). */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }

  /** A note printed with the summary. */
  note(message: string): void {
    this.notes.push(message);
  }

  /** Stops the bar and prints the summary. */
  finish(): void {
    this.stop();
    const seconds = (Date.now() - this.started) / 1000;
    const c = this.counts;
    if (this.opts.json) {
      for (const message of this.notes) process.stdout.write(JSON.stringify({ op: 'note', message }) + '\n');
      process.stdout.write(JSON.stringify({ op: 'summary', ...c, bytes: this.bytes, seconds: Number(seconds.toFixed(3)), dryRun: this.opts.dryRun || undefined }) + '\n');
      return;
    }
    const parts: string[] = [];
    const verb = this.opts.dryRun ? 'would ' : '';
    if (c.uploaded) parts.push(`${verb}upload ${c.uploaded}`);
    if (c.headers) parts.push(`${verb}update headers of ${c.headers}`);
    if (c.downloaded) parts.push(`${verb}download ${c.downloaded}`);
    if (c.copied) parts.push(`${verb}copy ${c.copied}`);
    if (c.deleted) parts.push(`${verb}delete ${c.deleted}`);
    parts.push(`${c.skipped} unchanged`);
    if (c.failed) parts.push(`${c.failed} failed`);
    const moved = this.opts.dryRun ? '' : `, ${formatBytes(this.bytes)}`;
    for (const message of this.notes) process.stderr.write(`note: ${message}\n`);
    process.stderr.write(`${this.opts.dryRun ? 'dry run: ' : ''}${parts.join(', ')}${moved} in ${seconds.toFixed(1)}s\n`);
  }
}
