import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkSite, formatProblem } from '../../src/templates/check.js';
import { contentTypeProblem, locateObject } from '../../src/templates/probe.js';

/** A fake bucket: URL → [status, content type, body]. */
function fakeFetch(objects: Record<string, [number, string, string?]>): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = String(input);
    const [status, type, body] = objects[url] ?? [404, 'application/xml', '<Error><Code>NoSuchKey</Code></Error>'];
    return new Response(body ?? '', { status, headers: { 'content-type': type } });
  }) as typeof fetch;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'offload-check-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const B = 'https://media.example.com/';

describe('checkSite', () => {
  it('reports wrong types, private objects, pages in the bucket and old links, each with file and line', async () => {
    writeFileSync(
      join(dir, 'index.html'),
      [
        '<!doctype html>',
        `<link rel="stylesheet" href="${B}css/site.css">`,
        `<script src="${B}js/app.js"></script>`,
        `<img src="${B}img/private.png">`,
        `<a href="${B}docs/guide.html">guide</a> <a href="${B}docs/guide.pdf">pdf</a>`,
        '<img src="/media/img/old.png"><a href="/about">about</a>',
      ].join('\n'),
    );
    mkdirSync(join(dir, 'media'));
    writeFileSync(join(dir, 'media', 'ignored.css'), '.x{background:url(../media/img/x.png)}');
    const result = await checkSite({
      target: dir,
      base: B,
      fetch: fakeFetch({
        [`${B}css/site.css`]: [200, 'text/css', '@font-face{src:url(../fonts/f.woff2)}\n.a{background:url(../img/a.png)}'],
        [`${B}fonts/f.woff2`]: [200, 'application/octet-stream'],
        [`${B}img/a.png`]: [200, 'image/png'],
        [`${B}js/app.js`]: [200, 'text/plain'],
        [`${B}img/private.png`]: [403, 'application/xml'],
        [`${B}docs/guide.html`]: [200, 'text/html; charset=utf-8'],
        [`${B}docs/guide.pdf`]: [200, 'application/pdf'],
      }),
    });
    expect(result.problems.map(formatProblem)).toEqual([
      `${B}css/site.css:1: warning: ${B}fonts/f.woff2 font served as application/octet-stream (works, but font/woff2 etc. is better)`,
      `index.html:3: ${B}js/app.js used as a script but served as text/plain (expected text/javascript)`,
      `index.html:4: ${B}img/private.png is not publicly readable (HTTP 403); a missing object also answers 403 when listing is not public`,
      `index.html:5: ${B}docs/guide.html links to an HTML page in the bucket: pages must stay on the app server`,
      'index.html:6: still points at the old media path /media/: /media/img/old.png',
    ]);
    expect(result.documents).toEqual(['index.html', `${B}css/site.css`]);
  });

  it('fetches pages and their stylesheets from a running app', async () => {
    const app = 'http://app.test/';
    const result = await checkSite({
      target: app,
      base: B,
      fetch: fakeFetch({
        [app]: [200, 'text/html', `<link rel="stylesheet" href="/static/app.css">\n<iframe src="${B}widget"></iframe>`],
        'http://app.test/static/app.css': [200, 'text/css', `.a{background:url(${B}img/gone.png)}\n.b{background:url(/media/img/b.png)}`],
      }),
    });
    expect(result.problems.map(formatProblem)).toEqual([
      `http://app.test/:2: <iframe> loads ${B}widget from the bucket: pages must stay on the app server`,
      `http://app.test/static/app.css:1: ${B}img/gone.png does not exist`,
      'http://app.test/static/app.css:2: still points at the old media path /media/: /media/img/b.png',
    ]);
  });
});

describe('probe helpers', () => {
  it('locateObject maps a path-style base to bucket and key at the endpoint', () => {
    expect(locateObject('http://s3.test/media-bucket/site/img/a%20b.png?x=1', 'http://s3.test/media-bucket/site/', { endpoint: 'http://s3.test' })).toEqual({
      url: 'http://s3.test/media-bucket/site/img/a%20b.png',
      bucket: 'media-bucket',
      key: 'site/img/a b.png',
    });
    expect(locateObject(`${B}img/a.png`, B, { endpoint: 'http://s3.test', bucket: 'media', prefix: 'p/' })).toEqual({ url: 'http://s3.test/media/p/img/a.png', bucket: 'media', key: 'p/img/a.png' });
    expect(locateObject(`${B}img/a.png`, B)).toEqual({ url: `${B}img/a.png` });
  });

  it('contentTypeProblem', () => {
    expect(contentTypeProblem('stylesheet', 'text/css; charset=utf-8')).toBeUndefined();
    expect(contentTypeProblem('script', 'application/javascript')).toBeUndefined();
    expect(contentTypeProblem('image', 'image/svg+xml')).toBeUndefined();
    expect(contentTypeProblem('font', 'font/woff2')).toBeUndefined();
    expect(contentTypeProblem('font', 'application/font-woff')).toBeUndefined();
    expect(contentTypeProblem('font', 'application/octet-stream')?.severity).toBe('warning');
    expect(contentTypeProblem('stylesheet', 'application/octet-stream')?.severity).toBe('error');
    expect(contentTypeProblem('image', 'text/plain')?.severity).toBe('error');
  });
});
