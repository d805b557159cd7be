/**
 * Runs the example:
 *   MEDIA_BASE=https://media.example.com/ MEDIA_MANIFEST=./offload-manifest.json PORT=3000 npx tsx examples/express-nunjucks/server.ts
 * Without MEDIA_BASE it serves ../../test/fixtures/site/media locally at /media/ (offline development).
 */
import { resolve } from 'node:path';
import { createMedia } from '../../src/templates/media.js';
import { createApp } from './app.js';

const base = process.env.MEDIA_BASE ?? '/media/';
const media = createMedia({ base, manifest: process.env.MEDIA_MANIFEST || undefined });
const app = createApp({ media, localMedia: base.startsWith('/') ? resolve(import.meta.dirname, '../../test/fixtures/site/media') : undefined });
const port = Number(process.env.PORT ?? 3000);
app.listen(port, () => console.log(`example app on http://localhost:${port}/ (media from ${media.base})`));
