/**
 * The storage layer's shape: the rest of the code sees the Store interface, never the engine
 * class; storage imports nothing above it; its modules form no import cycle and stay small.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** The files a module imports, resolved (type-only imports included: a cycle of types is still a cycle of concerns). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) => resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
}

describe('storage layer boundaries', () => {
  const storage = sources(join(SRC, 'storage'));

  it('nothing outside storage reaches for the engine class', () => {
    for (const file of sources(SRC).filter((f) => !f.startsWith(join(SRC, 'storage')))) {
      const text = readFileSync(file, 'utf8');
      expect(text, file).not.toMatch(/instanceof\s+Engine\b/);
      expect(text, file).not.toMatch(/import\s*\{[^}]*\bEngine\b[^}]*\}\s*from\s*'[^']*storage\/engine/);
    }
  });

  it('storage imports nothing from the server, serving or CLI layers', () => {
    for (const file of storage) {
      for (const target of importsOf(file)) {
        for (const upper of ['server', 'serving', 'cli']) expect(target.startsWith(join(SRC, upper) + '/'), `${file} imports ${target}`).toBe(false);
      }
    }
  });

  it('storage modules import each other without cycles', () => {
    const graph = new Map(storage.map((f) => [f, importsOf(f).filter((t) => t.startsWith(join(SRC, 'storage')))]));
    const done = new Set<string>();
    const visit = (file: string, path: string[]) => {
      expect(path.includes(file), `import cycle: ${[...path, file].map((f) => f.slice(SRC.length + 1)).join(' -> ')}`).toBe(false);
      if (done.has(file)) return;
      for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
      done.add(file);
    };
    for (const file of storage) visit(file, []);
  });

  it('no storage module is much over 300 lines', () => {
    for (const file of storage) expect(readFileSync(file, 'utf8').split('\n').length, file).toBeLessThanOrEqual(310);
  });
});
