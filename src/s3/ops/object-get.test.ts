import { describe, expect, it } from 'vitest';
import { checkConditions, parseRange } from './object-get.js';
import type { ObjectMeta } from '../../storage/types.js';

describe('parseRange', () => {
  it.each([
    ['bytes=0-9', 100, { start: 0, end: 9 }],
    ['bytes=90-', 100, { start: 90, end: 99 }],
    ['bytes=-10', 100, { start: 90, end: 99 }],
    ['bytes=-1000', 100, { start: 0, end: 99 }],
    ['bytes=50-1000', 100, { start: 50, end: 99 }],
    ['bytes=100-', 100, 'unsatisfiable'],
    ['bytes=-0', 100, 'unsatisfiable'],
    ['bytes=0-', 0, 'unsatisfiable'],
    ['bytes=9-1', 100, undefined],
    ['bytes=0-1,5-6', 100, undefined],
    ['items=0-1', 100, undefined],
  ])('%s of %d bytes', (value, size, expected) => {
    expect(parseRange(value, size)).toEqual(expected);
  });
});

describe('checkConditions', () => {
  const meta = { etag: '"abc"', lastModified: Date.parse('2026-01-02T03:04:05.678Z') } as ObjectMeta;
  const code = (headers: Record<string, string>) => {
    try {
      checkConditions(headers, meta);
      return 200;
    } catch (err) {
      return (err as { status: number }).status;
    }
  };
  it('follows RFC 9110 precedence as S3 does', () => {
    expect(code({ 'if-match': '"abc"' })).toBe(200);
    expect(code({ 'if-match': '"nope"' })).toBe(412);
    expect(code({ 'if-match': '*' })).toBe(200);
    expect(code({ 'if-none-match': '"abc"' })).toBe(304);
    expect(code({ 'if-none-match': 'W/"abc"' })).toBe(304);
    expect(code({ 'if-none-match': '"x", "abc"' })).toBe(304);
    expect(code({ 'if-none-match': '"nope"' })).toBe(200);
    expect(code({ 'if-modified-since': 'Fri, 02 Jan 2026 03:04:05 GMT' })).toBe(304);
    expect(code({ 'if-modified-since': 'Fri, 02 Jan 2026 03:04:04 GMT' })).toBe(200);
    expect(code({ 'if-unmodified-since': 'Fri, 02 Jan 2026 03:04:04 GMT' })).toBe(412);
    expect(code({ 'if-unmodified-since': 'Fri, 02 Jan 2026 03:04:05 GMT' })).toBe(200);
    // If-Match that holds beats a failing If-Unmodified-Since; If-None-Match that fails beats If-Modified-Since.
    expect(code({ 'if-match': '"abc"', 'if-unmodified-since': 'Fri, 02 Jan 2026 03:04:04 GMT' })).toBe(200);
    expect(code({ 'if-none-match': '"nope"', 'if-modified-since': 'Fri, 02 Jan 2026 03:04:05 GMT' })).toBe(200);
    expect(code({ 'if-modified-since': 'not a date' })).toBe(200);
  });
});
