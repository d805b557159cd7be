/** The bucket's sub-navigation: files, upload, settings, usage. */
import { href } from './router';

export function BucketTabs({ bucket, current }: { bucket: string; current: 'files' | 'upload' | 'settings' }) {
  const tab = (id: string, path: string[], label: string, query: Record<string, string> = {}) => (
    <a href={href(path, query)} class="tab" aria-current={current === id ? 'page' : undefined}>{label}</a>
  );
  return (
    <div class="page-head">
      <h1><a href={href(['buckets'])} class="muted">Buckets</a> / <span>{bucket}</span></h1>
      <nav class="tabs" aria-label={`Bucket ${bucket}`}>
        {tab('files', ['b', bucket], 'Files')}
        {tab('upload', ['b', bucket, 'upload'], 'Upload')}
        {tab('settings', ['b', bucket, 'settings'], 'Settings')}
        {tab('usage', ['usage'], 'Usage', { bucket })}
      </nav>
    </div>
  );
}
