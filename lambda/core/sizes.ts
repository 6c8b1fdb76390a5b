const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/**
 * Parses a human size: `500MB` is 500×10^6 bytes, `2GiB` is 2×2^30, `1.5 GB` and plain
 * numbers work too. Returns undefined when the text is not a size.
 */
export const parseSize = (text: string): number | undefined => {
  const m = /^\s*(\d+)(?:\.(\d+))?\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = UNITS[(m[3] ?? '').toLowerCase()];
  if (unit === undefined) return undefined;
  // Exact integer arithmetic: 1.005kB is 1005 bytes, not 1004.999...
  const frac = m[2] ?? '';
  const n = (BigInt(`${m[1]}${frac}`) * BigInt(unit)) / 10n ** BigInt(frac.length);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : undefined;
};

/** Formats bytes for people: 1.2 MB, 3.4 GB (decimal units, as Cloudinary counts credits). */
export const formatBytes = (n: number): string => {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  while (v >= 999.95 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
};
