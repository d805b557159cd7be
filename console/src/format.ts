/** Numbers and dates as a person reads them. */
const UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '-';
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${UNITS[i]}`;
}

export function formatDate(iso: string | undefined): string {
  if (!iso) return '-';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function formatCount(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString() : '-';
}

export function formatMoney(n: number, currency = 'USD'): string {
  try {
    // Small sums keep two significant digits, so a cent's fraction does not show as 0.00.
    const digits = n > 0 && n < 1 ? { maximumSignificantDigits: 2 } : { maximumFractionDigits: 2 };
    return n.toLocaleString(undefined, { style: 'currency', currency, ...digits });
  } catch {
    return `${n.toFixed(2)} ${currency}`;
  }
}
