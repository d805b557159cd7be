import { describe, expect, it } from 'vitest';
import { findHtmlRefs } from '../../src/templates/html-refs.js';
import { findCssRefs, findSourceMapRefs } from '../../src/templates/css-refs.js';

describe('findHtmlRefs', () => {
  const html = `<!doctype html><html><head><link rel="stylesheet" href="/media/css/site.css?v=1&amp;x=2">
<style>body{background:url('/media/img/bg.png')}</style><link rel=icon href=/media/favicon.ico>
</head><body><img src="/media/a.png" srcset="/media/a.png 1x, /media/a@2x.png 2x" alt="x">
<picture><source srcset="/media/b.webp" type="image/webp"><img src='/media/b.png'></picture>
<div style="background-image: url(&quot;/media/c.png&quot;)"></div>
<a href="/media/doc.pdf">x</a><iframe src="/widget"></iframe><script src="/media/js/app.js"></script>
<video poster="/media/p.jpg" src="/media/v.mp4"></video><img src="{{ media('x.png') }}"></body></html>`;
  const refs = findHtmlRefs(html);

  it('finds every reference with its use and exact range', () => {
    expect(refs.map((r) => [r.tag, r.attr, r.use, r.value, html.slice(r.start, r.end)])).toEqual([
      ['link', 'href', 'stylesheet', '/media/css/site.css?v=1&x=2', '/media/css/site.css?v=1&amp;x=2'],
      ['style', '<style>', 'image', '/media/img/bg.png', '/media/img/bg.png'],
      ['link', 'href', 'icon', '/media/favicon.ico', '/media/favicon.ico'],
      ['img', 'src', 'image', '/media/a.png', '/media/a.png'],
      ['img', 'srcset', 'image', '/media/a.png', '/media/a.png'],
      ['img', 'srcset', 'image', '/media/a@2x.png', '/media/a@2x.png'],
      ['source', 'srcset', 'image', '/media/b.webp', '/media/b.webp'],
      ['img', 'src', 'image', '/media/b.png', '/media/b.png'],
      ['div', 'style', 'image', '/media/c.png', '/media/c.png'],
      ['a', 'href', 'page', '/media/doc.pdf', '/media/doc.pdf'],
      ['iframe', 'src', 'frame', '/widget', '/widget'],
      ['script', 'src', 'script', '/media/js/app.js', '/media/js/app.js'],
      ['video', 'poster', 'image', '/media/p.jpg', '/media/p.jpg'],
      ['video', 'src', 'media', '/media/v.mp4', '/media/v.mp4'],
    ]);
  });
});

describe('findCssRefs', () => {
  it('finds url(), @import and sourceMappingURL, skipping comments and strings', () => {
    const css = `@import "base.css";\n@import url(./theme.css) screen;\n/* url(ignored.png) */\n.a{content:"url(no.png)";background:URL( "img/a b.png" )}\n@font-face{src:url(../fonts/x.woff2?#iefix) format("woff2")}\n.b{background:url(data:image/png;base64,AAA)}\n/*# sourceMappingURL=site.css.map */`;
    const refs = findCssRefs(css);
    expect(refs.map((r) => [r.kind, r.value, css.slice(r.start, r.end)])).toEqual([
      ['import', 'base.css', 'base.css'],
      ['import', './theme.css', './theme.css'],
      ['url', 'img/a b.png', 'img/a b.png'],
      ['url', '../fonts/x.woff2?#iefix', '../fonts/x.woff2?#iefix'],
      ['url', 'data:image/png;base64,AAA', 'data:image/png;base64,AAA'],
      ['sourcemap', 'site.css.map', 'site.css.map'],
    ]);
  });
  it('finds sourceMappingURL in JavaScript', () => {
    const js = 'console.log(1);\n//# sourceMappingURL=app.js.map\n';
    expect(findSourceMapRefs(js).map((r) => r.value)).toEqual(['app.js.map']);
  });
});
