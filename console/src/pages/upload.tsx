/**
 * Upload: drop files or whole folders (paths kept), or pick them; per-file and overall progress;
 * public or private. The engine (upload-engine.ts) does the transfers and the resuming.
 */
import { useRef, useState } from 'preact/hooks';
import { BucketTabs } from '../bucket-tabs';
import { Note } from '../components';
import { formatBytes } from '../format';
import { href } from '../router';
import { MULTIPART_THRESHOLD, uploadAll, type UploadItem } from '../upload-engine';
import { PUBLIC_WARNING } from './buckets';
import { filesFromDrop, relativePath } from './upload-drop';

export function UploadPage({ bucket, prefix: initialPrefix }: { bucket: string; prefix: string }) {
  const [prefix, setPrefix] = useState(initialPrefix);
  const [makePublic, setPublic] = useState(false);
  const [items, setItems] = useState<UploadItem[]>([]);
  const [running, setRunning] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [, setTick] = useState(0);
  const frame = useRef(0);
  // Progress events come fast; repaint at most once a frame.
  const changed = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      setTick((t) => t + 1);
    });
  };

  const add = (files: { file: File; path: string }[]) => {
    const folder = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
    setItems((old) => [...old.filter((i) => i.state !== 'done'), ...files.map(({ file, path }) => ({ file, key: folder + path, loaded: 0, state: 'waiting' as const }))]);
  };

  const start = async () => {
    setRunning(true);
    try {
      await uploadAll(bucket, items, makePublic, changed);
    } finally {
      setRunning(false);
      setTick((t) => t + 1);
    }
  };

  const total = items.reduce((s, i) => s + i.file.size, 0);
  const loaded = items.reduce((s, i) => s + (i.state === 'done' ? i.file.size : i.loaded), 0);
  const done = items.filter((i) => i.state === 'done').length;
  const failed = items.filter((i) => i.state === 'failed').length;
  const pending = items.some((i) => i.state === 'waiting' || i.state === 'failed');

  return (
    <section aria-label={`Upload to ${bucket}`}>
      <BucketTabs bucket={bucket} current="upload" />
      <div
        class={`dropzone ${dragging ? 'dragging' : ''}`}
        onDragOver={(e) => { e.preventDefault(); setDragging(true); }}
        onDragLeave={() => setDragging(false)}
        onDrop={async (e) => {
          e.preventDefault();
          setDragging(false);
          if (e.dataTransfer) add(await filesFromDrop(e.dataTransfer));
        }}
      >
        <p class="strong">Drop files or folders here</p>
        <p class="muted small">Folders keep their structure. Files over {formatBytes(MULTIPART_THRESHOLD)} are sent in parts and resume if the connection drops.</p>
        <div class="row center-row">
          <label class="btn">
            Choose files
            <input type="file" multiple class="sr-only" data-testid="file-input" onChange={(e) => { add([...(e.currentTarget.files ?? [])].map((file) => ({ file, path: relativePath(file) }))); e.currentTarget.value = ''; }} />
          </label>
          <label class="btn">
            Choose a folder
            <input type="file" multiple class="sr-only" data-testid="folder-input" {...{ webkitdirectory: true }} onChange={(e) => { add([...(e.currentTarget.files ?? [])].map((file) => ({ file, path: relativePath(file) }))); e.currentTarget.value = ''; }} />
          </label>
        </div>
      </div>
      <div class="card stack">
        <label>
          Upload into folder
          <input value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} placeholder="(top of the bucket)" spellcheck={false} />
        </label>
        <fieldset class="choice">
          <legend>Who can read these files</legend>
          <label class="check"><input type="radio" name="access" checked={!makePublic} onChange={() => setPublic(false)} /> Private: only signed-in keys</label>
          <label class="check"><input type="radio" name="access" checked={makePublic} onChange={() => setPublic(true)} /> Public: anyone with the URL</label>
        </fieldset>
        {makePublic ? <p class="small warn-text">{PUBLIC_WARNING}</p> : null}
        <div class="row">
          <button type="button" class="btn-primary" disabled={running || !pending} onClick={start}>
            {failed && !running ? 'Retry failed uploads' : running ? 'Uploading…' : items.length === done ? 'Upload' : `Upload ${items.length - done} file${items.length - done === 1 ? '' : 's'}`}
          </button>
          <button type="button" disabled={running || items.length === 0} onClick={() => setItems([])}>Clear list</button>
        </div>
      </div>
      {items.length > 0 ? (
        <div class="card">
          <div class="overall">
            <label for="overall-progress" class="strong">Overall: {done} of {items.length} files, {formatBytes(loaded)} of {formatBytes(total)}</label>
            <progress id="overall-progress" max={total || 1} value={loaded} data-testid="overall-progress" />
          </div>
          {done === items.length ? (
            <Note kind="ok">All {items.length} files uploaded. <a href={href(['b', bucket], { prefix: prefix || undefined })}>See them in the bucket</a>.</Note>
          ) : null}
          {failed > 0 && !running ? <Note kind="warn">{failed} file{failed === 1 ? '' : 's'} failed. Press “Retry failed uploads” to resume them.</Note> : null}
          <ul class="uploads">
            {items.map((i, n) => (
              <li key={n} class={`upload upload-${i.state}`} data-state={i.state}>
                <div class="row spread">
                  <span class="break">{i.key}</span>
                  <span class="small muted">{formatBytes(i.file.size)} · {STATE_WORDS[i.state]}</span>
                </div>
                <progress max={i.file.size || 1} value={i.state === 'done' ? i.file.size || 1 : i.loaded} aria-label={`Progress of ${i.key}`} />
                {i.error ? <div class="small error-text" role="alert">{i.error}</div> : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}

const STATE_WORDS: Record<UploadItem['state'], string> = {
  waiting: 'waiting',
  uploading: 'uploading',
  retrying: 'connection lost, retrying',
  done: 'done',
  failed: 'failed',
};
