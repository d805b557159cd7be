import { describe, expect, it } from 'vitest';
import { classify } from './front-door.js';

describe('front door classification', () => {
  const web = { websiteHostSuffix: '.web.test' };
  it.each([
    ['s3 API, path style', '127.0.0.1:9000', '/bucket/key', {}, 's3'],
    ['s3 API, virtual host', 'bucket.localhost', '/key', {}, 's3'],
    ['admin namespace', '127.0.0.1:9000', '/_offload/health', {}, 'admin'],
    ['a key merely starting with _offload', '127.0.0.1', '/_offloadx/y', {}, 's3'],
    ['website host on the API port', 'site.web.test:9000', '/index.html', web, 'website'],
    ['website host wins over the admin path', 'Site.Web.Test', '/_offload/health', web, 'website'],
    ['API host beside a website domain', 'localhost:9000', '/b/k', web, 's3'],
    ['the website port takes everything', '127.0.0.1', '/_offload/health', { websiteOnly: true }, 'website'],
    ['the console under the API port', '127.0.0.1:9000', '/_offload/console/api/session', { console: true }, 'console'],
    ['the console page itself', '127.0.0.1:9000', '/_offload/console', { console: true }, 'console'],
    ['--no-console: the path is the admin namespace', '127.0.0.1:9000', '/_offload/console/', {}, 'admin'],
    ['a path merely starting with console', '127.0.0.1:9000', '/_offload/consolex', { console: true }, 'admin'],
    ['the console port takes everything', '127.0.0.1:9001', '/bucket/key', { consoleOnly: true }, 'console'],
    ['a website host wins over the console path', 'site.web.test', '/_offload/console/', { ...web, console: true }, 'website'],
  ] as const)('%s', (_name, host, path, opts, expected) => {
    expect(classify(host, path, opts)).toBe(expected);
  });
});
