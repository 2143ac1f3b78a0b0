/** Durations (`30m`, `2h`) and sizes (`512MiB`, `4GiB`). Parsers return a number or an error string. */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s` → 90000 (milliseconds). Compound forms like `1h30m` are accepted. */
export function parseDuration(text: string): number | string {
  const s = text.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) return `"${text}" is not a duration (examples: 90s, 30m, 2h, 1h30m)`;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  if (!Number.isFinite(total) || total <= 0) return `"${text}" must be a positive duration`;
  if (total > 365 * DURATION_UNITS.d!) return `"${text}" is longer than a year`;
  return Math.round(total);
}

const SIZE_UNITS: Record<string, number> = {
  b: 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, t: 1e12, tb: 1e12,
  kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40,
};

/** `512MiB` → 536870912 (bytes). A bare number is bytes. */
export function parseSize(value: string | number): number | string {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : `${value} is not a positive whole number of bytes`;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(value);
  const unit = m ? (m[2] || 'b').toLowerCase() : '';
  if (!m || !(unit in SIZE_UNITS)) return `"${value}" is not a size (examples: 512MiB, 4GiB, 100MB)`;
  const bytes = Math.round(Number(m[1]) * SIZE_UNITS[unit]!);
  if (!Number.isSafeInteger(bytes) || bytes <= 0) return `"${value}" must be a positive size`;
  return bytes;
}

export function formatDuration(ms: number): string {
  for (const [u, f] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms % f === 0) return `${ms / f}${u}`;
  return `${ms}ms`;
}

export function formatSize(bytes: number): string {
  for (const [u, f] of [['TiB', 2 ** 40], ['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) if (bytes % f === 0) return `${bytes / f}${u}`;
  return `${bytes}B`;
}
