/** The prices the usage page estimates cost with, editable in the console, kept in DATA/console-prices.json. */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { PRICES_2006 } from '../serving/cost.js';
import { badInput } from './errors.js';

export interface ConsolePrices {
  /** $ per GB-month stored (GB = 2^30 bytes). */
  storagePerGbMonth: number;
  /** $ per GB sent. */
  egressPerGb: number;
  requestsPer1000Get: number;
  requestsPer1000Put: number;
  currency: string;
}

/** serving/cost.ts's defaults (S3's 2006 list: $0.01 per 1,000 PUTs and per 10,000 GETs). */
export const DEFAULT_PRICES: ConsolePrices = {
  storagePerGbMonth: PRICES_2006.storagePerGbMonth,
  egressPerGb: PRICES_2006.transferPerGb,
  requestsPer1000Get: PRICES_2006.requests / 10,
  requestsPer1000Put: PRICES_2006.requests,
  currency: 'USD',
};

export interface PriceStore {
  get(): ConsolePrices;
  set(prices: ConsolePrices): void;
}

export function filePriceStore(dataDir: string): PriceStore {
  const file = join(dataDir, 'console-prices.json');
  return {
    get() {
      try {
        return { ...DEFAULT_PRICES, ...(JSON.parse(readFileSync(file, 'utf8')) as Partial<ConsolePrices>) };
      } catch {
        return { ...DEFAULT_PRICES };
      }
    },
    set(prices) {
      writeFileSync(`${file}.tmp`, JSON.stringify(prices), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    },
  };
}

export function parsePrices(body: Record<string, unknown>, current: ConsolePrices): ConsolePrices {
  const out = { ...current };
  for (const name of ['storagePerGbMonth', 'egressPerGb', 'requestsPer1000Get', 'requestsPer1000Put'] as const) {
    const v = body[name];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1e6) throw badInput(`"${name}" must be a price of 0 or more.`);
    out[name] = v;
  }
  if (body.currency !== undefined) {
    if (typeof body.currency !== 'string' || !/^[A-Z]{3}$/.test(body.currency)) throw badInput('"currency" is a three-letter code such as USD or EUR.');
    out.currency = body.currency;
  }
  return out;
}
