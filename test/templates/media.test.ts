import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createMedia, mediaMiddleware, type Manifest } from '../../src/templates/media.js';

const manifest: Manifest = {
  version: 1,
  files: {
    'css/site.css': { key: 'css/site.3f2a9c1b.css', size: 10, contentType: 'text/css', integrity: 'sha384-abc' },
    'img/a b.png': { key: 'img/a b.12345678.png', size: 3, contentType: 'image/png', integrity: 'sha384-def' },
  },
};

describe('createMedia', () => {
  it('maps a logical path to base + hashed key', () => {
    const media = createMedia({ base: 'https://media.example.com', manifest, mode: 'development' });
    expect(media('css/site.css')).toBe('https://media.example.com/css/site.3f2a9c1b.css');
    expect(media('/css/site.css')).toBe('https://media.example.com/css/site.3f2a9c1b.css');
    expect(media('css/site.css?v=2#x')).toBe('https://media.example.com/css/site.3f2a9c1b.css?v=2#x');
    expect(media('img/a b.png')).toBe('https://media.example.com/img/a%20b.12345678.png');
    expect(media.integrity('css/site.css')).toBe('sha384-abc');
    expect(media.has('css/site.css')).toBe(true);
    expect(media.has('css/nope.css')).toBe(false);
    expect(media.base).toBe('https://media.example.com/');
  });

  it('works with a local base for offline development, and without a manifest', () => {
    const media = createMedia({ base: '/media' });
    expect(media('img/logo.png')).toBe('/media/img/logo.png');
    expect(media.has('anything')).toBe(true);
    expect(media.integrity('img/logo.png')).toBe('');
  });

  it('throws on an unknown path in development', () => {
    const media = createMedia({ base: '/media/', manifest, mode: 'development' });
    expect(() => media('css/nope.css')).toThrow(/"css\/nope.css" is not in the media manifest/);
    expect(() => media.integrity('css/nope.css')).toThrow(/not in the media manifest/);
  });

  it('warns once per unknown path in production and returns the unhashed URL', () => {
    const warn = vi.fn();
    const media = createMedia({ base: 'https://m.example/', manifest, mode: 'production', warn });
    expect(media('css/nope.css')).toBe('https://m.example/css/nope.css');
    expect(media('css/nope.css')).toBe('https://m.example/css/nope.css');
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('defaults the mode from NODE_ENV and uses console.warn', () => {
    vi.stubEnv('NODE_ENV', 'production');
    const spy = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const media = createMedia({ base: '/m/', manifest });
      expect(media('x.png')).toBe('/m/x.png');
      expect(spy).toHaveBeenCalledOnce();
    } finally {
      spy.mockRestore();
      vi.unstubAllEnvs();
    }
  });

  it('loads the manifest from a file path, and rejects a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'offload-media-'));
    try {
      writeFileSync(join(dir, 'm.json'), JSON.stringify(manifest));
      writeFileSync(join(dir, 'bad.json'), '{"version":2,"files":{}}');
      expect(createMedia({ base: '/', manifest: join(dir, 'm.json') })('css/site.css')).toBe('/css/site.3f2a9c1b.css');
      expect(() => createMedia({ base: '/', manifest: join(dir, 'bad.json') })).toThrow(/unsupported manifest version 2/);
      expect(() => createMedia({ base: '/', manifest: join(dir, 'missing.json') })).toThrow(/cannot read manifest/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('mediaMiddleware puts media on res.locals', () => {
    const media = createMedia({ base: '/media/' });
    const res = { locals: {} as Record<string, unknown> };
    const next = vi.fn();
    mediaMiddleware(media)({}, res, next);
    expect(res.locals.media).toBe(media);
    expect(next).toHaveBeenCalledWith();
  });
});
