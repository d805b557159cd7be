/** Byte sizes as the command line's flags take them (`--hot-cache`, `--min-free-space`, `--part-size`...). */

/** Decimal (`k`, `MB`) and binary (`KiB`, `Mi`) units, matched case-insensitively. */
const UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3,
};

/** `16MiB`, `5mb`, `1048576` in bytes; undefined when the text is no size. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = (m?.[2] ?? '').toLowerCase();
  if (!m || !Object.hasOwn(UNITS, unit)) return undefined;
  return Math.round(Number(m[1]) * UNITS[unit]!);
}
