/**
 * Builds the web console's front end into dist/console-ui/: one hashed script, one hashed stylesheet
 * and an index.html that loads them. `npm run build` runs this after tsc. The server's CSP is
 * script-src 'self' and style-src 'self', so nothing is inlined: index.html only links the files.
 * Asset URLs are absolute under /_offload/console/, the path the server gives the console on the
 * API port and on the console port alike.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
// Not dist/console/: that is where tsc puts the server's own src/console/ layer.
const out = join(here, '..', 'dist', 'console-ui');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: [join(here, 'src', 'main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  // The usage page (uPlot, the biggest part) is its own chunk, loaded when first opened.
  splitting: true,
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  outdir: out,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const outputs = Object.entries(result.metafile.outputs);
const entry = outputs.find(([, o]) => o.entryPoint && o.cssBundle);
const script = entry && basename(entry[0]);
const style = entry && basename(entry[1].cssBundle);
if (!script || !style) throw new Error(`console build: expected a .js and a .css output, got ${outputs.join(', ')}`);

const template = readFileSync(join(here, 'src', 'index.html'), 'utf8');
// A favicon of our own: without one the browser's /favicon.ico request is a 404 in its console.
copyFileSync(join(here, 'src', 'favicon.svg'), join(out, 'favicon.svg'));
writeFileSync(join(out, 'index.html'), template.replace('%STYLE%', style).replace('%SCRIPT%', script));

// The size a browser downloads, so the bundle budget (300 KB gzipped) stays visible in the build log.
const gz = (f) => gzipSync(readFileSync(join(out, f))).length;
const firstPage = [script, style, 'index.html'].reduce((sum, f) => sum + gz(f), 0);
const all = outputs.reduce((sum, [p]) => sum + gz(basename(p)), gz('index.html'));
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`console: dist/console-ui/ ${kb(all)} gzipped in all, ${kb(firstPage)} for the first page`);
