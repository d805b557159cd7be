import { describe, expect, it } from 'vitest';
import { compileGlob, isContentHashed, PathFilter } from '../../src/cli/s3/rules.js';
import { looksLikeUtf8Text, typeByName, sniffType } from '../../src/cli/s3/content-type.js';
import { keyFor, parseS3Url, safeLocalPath, parseSize, parseDuration } from '../../src/cli/s3/keys.js';

describe('content-hashed names', () => {
  it.each(['app.3f2a9c1b.js', 'index-Dx3kT9qa.js', 'chunk-5KQ2ZYXB.mjs', 'logo.a1b2c3d4e5.svg', 'app.3f2a9c1b.js.map', 'index-B-k3_x9Q.js'])('%s is hashed', (n) => {
    expect(isContentHashed(n)).toBe(true);
  });
  it.each(['main.js', 'my-favorite-photo.jpg', 'report-20240115.pdf', 'jquery-3.7.1.min.js', 'bootstrap-icons.woff2', 'IMG_1234.jpg', 'Inter-SemiBold.woff2', 'README', 'site.webmanifest', 'fonts/roboto-v30-latin-regular.woff2', 'hero-1920x1080.webp', 'photo-IMG_2044.jpg'])('%s is not hashed', (n) => {
    expect(isContentHashed(n)).toBe(false);
  });
});

describe('globs', () => {
  it('match gitignore-style', () => {
    expect(compileGlob('*.map')('a/b/x.map')).toBe(true);
    expect(compileGlob('drafts/')('drafts/a/b')).toBe(true);
    expect(compileGlob('drafts/')('drafts')).toBe(false);
    expect(compileGlob('/README')('x/README')).toBe(false);
    expect(compileGlob('/README')('README')).toBe(true);
    expect(compileGlob('img/*.png')('img/a.png')).toBe(true);
    expect(compileGlob('img/*.png')('x/img/a.png')).toBe(false);
  });
  it('last match wins', () => {
    const f = new PathFilter([{ include: false, glob: '*.psd' }, { include: true, glob: 'keep/*.psd' }]);
    expect(f.includes('a.psd')).toBe(false);
    expect(f.includes('keep/a.psd')).toBe(true);
    expect(f.includes('a.png')).toBe(true);
  });
});

describe('content types', () => {
  it('knows web types', () => {
    expect(typeByName('a.woff2')).toBe('font/woff2');
    expect(typeByName('a.webp')).toBe('image/webp');
    expect(typeByName('a.avif')).toBe('image/avif');
    expect(typeByName('a.mjs')).toBe('text/javascript; charset=utf-8');
    expect(typeByName('a.wasm')).toBe('application/wasm');
    expect(typeByName('site.webmanifest')).toBe('application/manifest+json; charset=utf-8');
    expect(typeByName('a.svg')).toBe('image/svg+xml; charset=utf-8');
    expect(typeByName('a.json')).toBe('application/json; charset=utf-8');
    expect(typeByName('a.css')).toBe('text/css; charset=utf-8');
    expect(typeByName('README')).toBeUndefined();
    expect(typeByName('a.unknownext')).toBeUndefined();
  });
  it('sniffs UTF-8 text, allowing a character cut at the prefix end', () => {
    const euro = Buffer.from('price: 5 €', 'utf8');
    expect(looksLikeUtf8Text(euro, false)).toBe(true);
    expect(looksLikeUtf8Text(euro.subarray(0, euro.length - 1), true)).toBe(true);
    expect(looksLikeUtf8Text(euro.subarray(0, euro.length - 1), false)).toBe(false);
    expect(sniffType(Buffer.from([0x68, 0, 0x69]), false)).toBe('application/octet-stream');
    expect(sniffType(Buffer.from([0xff, 0xfe, 0x41]), false)).toBe('application/octet-stream');
    expect(sniffType(Buffer.alloc(0), false)).toBe('text/plain; charset=utf-8');
  });
});

describe('keys', () => {
  it('are NFC with forward slashes', () => {
    expect(keyFor('media', 'caf\u0065\u0301.txt')).toBe('media/caf\u00e9.txt');
    expect(keyFor('', 'a/b c+d%#&;.txt')).toBe('a/b c+d%#&;.txt');
  });
  it('parse s3 URLs', () => {
    expect(parseS3Url('s3://bkt/p/q')).toEqual({ kind: 's3', bucket: 'bkt', prefix: 'p/q' });
    expect(parseS3Url('s3://my.media-1')).toEqual({ kind: 's3', bucket: 'my.media-1', prefix: '' });
  });
  it('refuse unsafe local paths', () => {
    expect(safeLocalPath('/x', '../etc/passwd')).toBeUndefined();
    expect(safeLocalPath('/x', 'a//b')).toBeUndefined();
    expect(safeLocalPath('/x', 'dir/')).toBeUndefined();
    expect(safeLocalPath('/x', 'a/b')).toBe('/x/a/b');
  });
  it('parse sizes and durations', () => {
    expect(parseSize('6MiB')).toBe(6 * 1024 * 1024);
    expect(parseSize('5MB')).toBe(5e6);
    expect(parseDuration('1h')).toBe(3600);
    expect(parseDuration('15m')).toBe(900);
  });
});
