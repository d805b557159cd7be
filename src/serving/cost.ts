/**
 * What a bucket's usage would cost per month at given prices (by default S3's original 2006
 * price list), with the formula spelled out so the estimate can be checked by hand.
 * GB means 2^30 bytes, as in AWS billing; a month is 30 days; the period's transfer and
 * requests are scaled to a month, storage is what is stored now.
 */
export interface Prices {
  /** $ per GB-month stored. */
  storagePerGbMonth: number;
  /** $ per GB sent. */
  transferPerGb: number;
  /** $ per 1,000 PUT-class requests and per 10,000 GET-class requests. */
  requests: number;
}

export const PRICES_2006: Prices = { storagePerGbMonth: 0.15, transferPerGb: 0.2, requests: 0.01 };

export const GB = 1024 ** 3;
export const MONTH_DAYS = 30;

export interface UsageForCost {
  /** Length of the measured period in days. */
  days: number;
  totals: { bytesOut: number; puts: number; gets: number };
  stored: { bytes: number };
}

export interface CostEstimate {
  storage: number;
  transfer: number;
  requests: number;
  total: number;
  /** One line per term, with the numbers substituted. */
  formula: string[];
}

export function monthlyCost(usage: UsageForCost, prices: Prices = PRICES_2006): CostEstimate {
  const scale = MONTH_DAYS / usage.days;
  const storedGb = usage.stored.bytes / GB;
  const sentGb = usage.totals.bytesOut / GB;
  const storage = storedGb * prices.storagePerGbMonth;
  const transfer = sentGb * scale * prices.transferPerGb;
  const requests = (usage.totals.puts / 1000 + usage.totals.gets / 10_000) * prices.requests * scale;
  const total = storage + transfer + requests;
  const n = (x: number) => String(Number(x.toPrecision(6)));
  return {
    storage,
    transfer,
    requests,
    total,
    formula: [
      `storage  = stored GB x $/GB-month = ${n(storedGb)} x ${prices.storagePerGbMonth} = $${money(storage)}`,
      `transfer = GB sent x (${MONTH_DAYS} / ${n(usage.days)} days) x $/GB = ${n(sentGb)} x ${n(scale)} x ${prices.transferPerGb} = $${money(transfer)}`,
      `requests = (PUTs / 1,000 + GETs / 10,000) x $${prices.requests} x (${MONTH_DAYS} / ${n(usage.days)} days) = (${usage.totals.puts} / 1000 + ${usage.totals.gets} / 10000) x ${prices.requests} x ${n(scale)} = $${money(requests)}`,
      `total    = storage + transfer + requests = $${money(total)} per month (GB = 2^30 bytes, month = ${MONTH_DAYS} days)`,
    ],
  };
}

/** Dollars with enough digits that small sums are not all zeros. */
export function money(x: number): string {
  return x >= 1 ? x.toFixed(2) : x.toFixed(6);
}
