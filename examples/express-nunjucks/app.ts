/**
 * Example: an Express app rendering Nunjucks templates whose media comes from the bucket.
 *
 *   const media = createMedia({ base: 'https://media.example.com/', manifest: './offload-manifest.json' });
 *   createApp({ media }).listen(3000);
 *
 * In templates: <link rel="stylesheet" href="{{ media('css/site.css') }}" integrity="{{ media.integrity('css/site.css') }}" crossorigin="anonymous">
 * In your own app, import from 'offload/media'; this example imports the source so it runs from the repository.
 */
import { resolve } from 'node:path';
import express, { type Express } from 'express';
import nunjucks from 'nunjucks';
import { mediaMiddleware, type Media } from '../../src/templates/media.js';

export interface AppOptions {
  media: Media;
  /** Folder of the Nunjucks templates (default: ./views next to this file). */
  views?: string;
  /** Offline development: serve this local media folder at the media base when the base is a path like `/media/`. */
  localMedia?: string;
}

export function createApp({ media, views = resolve(import.meta.dirname, 'views'), localMedia }: AppOptions): Express {
  const app = express();
  const env = nunjucks.configure(views, { autoescape: true, express: app, noCache: process.env.NODE_ENV !== 'production' });
  // Either line is enough: a global works in every template (also outside Express renders),
  // the middleware puts `media` on res.locals for every view rendered through Express.
  env.addGlobal('media', media);
  app.use(mediaMiddleware(media));

  if (localMedia && media.base.startsWith('/')) app.use(media.base, express.static(localMedia, { fallthrough: false }));

  app.get('/', (_req, res) => res.render('index.njk', { title: 'Offload example' }));
  // A page of the app: it must stay on the app server even when it is shown in an iframe.
  app.get('/widget', (req, res) => res.render('widget.njk', { path: req.path }));
  app.get('/about', (_req, res) => res.type('text/plain').send('About this example'));
  return app;
}
