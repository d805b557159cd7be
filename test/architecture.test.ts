/**
 * The layer rule of docs/architecture.md, enforced: every relative import in src/ goes to the same
 * layer or one the importer's layer may use (below it), and no two files import each other,
 * directly or around a loop. Reads the import graph with the TypeScript pre-processor (no build).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { stronglyConnected } from '../src/util/graph.js';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/**
 * The server stack, bottom first: a layer imports only layers before it in this list. The
 * client side (cli) sits on top and may use anything; templates (the page helpers shipped as
 * `offload/media`) stand alone beside the stack and use only the shared utilities.
 */
const STACK = ['util', 'errors', 'storage', 'auth', 'media', 's3', 'serving', 'console', 'server'] as const;
type Layer = (typeof STACK)[number] | 'templates' | 'cli' | 'entry';

const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  ...(Object.fromEntries(STACK.map((layer, i) => [layer, STACK.slice(0, i)])) as Record<(typeof STACK)[number], Layer[]>),
  templates: ['util'],
  cli: [...STACK, 'templates'],
  entry: [...STACK, 'templates', 'cli'],
};

/** The layer of a file, by its folder under src/ (two top-level files have their own place). */
function layerOf(file: string): Layer {
  if (file === 'index.ts') return 'entry'; // the package's public entry point
  if (file === 'format.ts') return 'util'; // number and byte formatting, shared by cli and serving
  const top = file.split('/')[0]!;
  if ((STACK as readonly string[]).includes(top) || top === 'templates' || top === 'cli') return top as Layer;
  throw new Error(`${file}: src/${top}/ is in no layer; add it to STACK in test/architecture.test.ts and docs/architecture.md`);
}

/** Imports that break the rule, each to be removed by the change that adds it here (none today). */
const KNOWN_LAYER_EXCEPTIONS = new Set<string>([]);
const KNOWN_CYCLE_EXCEPTIONS = new Set<string>([]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** file (relative to src/, with /) -> the src files it imports (type-only imports count: they couple too). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const path of sourceFiles(SRC)) {
    const file = relative(SRC, path).split('\\').join('/');
    const info = ts.preProcessFile(readFileSync(path, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((ref) => ref.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => normalize(join(dirname(file), name)).split('\\').join('/').replace(/\.js$/, '.ts'));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** Strongly connected components of more than one file, each as a sorted list. */
function cycles(graph: Map<string, string[]>): string[][] {
  return stronglyConnected(graph).filter((component) => component.length > 1);
}

describe('architecture', () => {
  const graph = importGraph();

  it('finds the source files and their imports', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get('s3/handler.ts')).toContain('s3/dispatch.ts');
  });

  it('imports only downward, as the layer order says', () => {
    const violations: string[] = [];
    for (const [file, targets] of graph) {
      const from = layerOf(file);
      for (const target of targets) {
        const to = layerOf(target);
        const edge = `${file} -> ${target}`;
        if (to !== from && !MAY_IMPORT[from].includes(to) && !KNOWN_LAYER_EXCEPTIONS.has(edge)) violations.push(`${edge} (${from} may not import ${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('has no import cycle between files', () => {
    const loops = cycles(graph)
      .map((component) => component.join(' <-> '))
      .filter((loop) => !KNOWN_CYCLE_EXCEPTIONS.has(loop));
    expect(loops).toEqual([]);
  });

  it('keeps its known exceptions real (delete an entry once its import is gone)', () => {
    const edges = new Set([...graph].flatMap(([file, targets]) => targets.map((t) => `${file} -> ${t}`)));
    for (const edge of KNOWN_LAYER_EXCEPTIONS) expect(edges.has(edge), edge).toBe(true);
    const loops = new Set(cycles(graph).map((component) => component.join(' <-> ')));
    for (const loop of KNOWN_CYCLE_EXCEPTIONS) expect(loops.has(loop), loop).toBe(true);
  });

  it('keeps files outside src/storage under about 300 lines', () => {
    const long = [...graph.keys()]
      .filter((file) => !file.startsWith('storage/'))
      .map((file) => [file, readFileSync(join(SRC, file), 'utf8').split('\n').length] as const)
      .filter(([, lines]) => lines > 310)
      .map(([file, lines]) => `${file}: ${lines} lines`);
    expect(long).toEqual([]);
  });
});
