import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GET_ANSWER_INPUTS } from './repeated-answer-cache.js';

const declared = new Set<string>([...GET_ANSWER_INPUTS.keyedOn, ...GET_ANSWER_INPUTS.ownAnswer]);

describe('repeated-answer cache inputs', () => {
  it('lists every request header the GET path reads', () => {
    const files = ['ops/object-get.ts', '../media/variants.ts', '../media/cache-rules.ts'];
    const read = new Set<string>();
    for (const file of files) {
      const source = readFileSync(new URL(file, import.meta.url), 'utf8');
      for (const match of source.matchAll(/header\(\s*[\w.]+,\s*'([a-z0-9-]+)'\s*\)/g)) read.add(match[1]!);
    }
    expect(read.size).toBeGreaterThan(3);
    const missing = [...read].filter((name) => !declared.has(name) && !name.startsWith(GET_ANSWER_INPUTS.ownAnswerPrefix));
    expect(missing).toEqual([]);
  });
});
