/** One cell of a result table: numbers stay numbers in the JSON. */
export type Cell = string | number | boolean | null;

/** One performance target (docs/performance.md), checked against what was measured. */
export interface TargetCheck {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  /** null when it could not be checked in this run (e.g. --quick, or no rclone). */
  readonly met: boolean | null;
  /** How far from the target, in words ("34% under", "2.1x over"). */
  readonly margin: string;
}

/** What one benchmark reports: a table, the targets, and notes that explain the numbers. */
export interface BenchResult {
  readonly id: number;
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly Record<string, Cell>[];
  readonly targets: readonly TargetCheck[];
  readonly notes: readonly string[];
  /** Wall time of the whole benchmark, set-up included. */
  readonly seconds: number;
  /** Figures for the JSON only (per-run request counts, CPU split, ...). */
  readonly details?: Readonly<Record<string, unknown>>;
}

export const round = (n: number, digits = 1): number => Math.round(n * 10 ** digits) / 10 ** digits;
export const mib = (bytes: number): number => round(bytes / 2 ** 20, 0);
export const seconds = (ms: number): number => round(ms / 1000, 1);
/** Decimal megabytes per second (1 MB = 10^6 bytes). */
export const mbps = (bytes: number, ms: number): number => round(bytes / 1e6 / (ms / 1000), 1);

/** "12% under" / "1.8x over" for a value against a limit where lower is better. */
export const marginBelow = (value: number, limit: number): string =>
  value <= limit ? `${Math.round((1 - value / limit) * 100)}% under` : `${round(value / limit, 2)}x the limit`;

const text = (c: Cell | undefined): string => {
  if (c === null || c === undefined) return '–';
  if (typeof c === 'number') return Number.isInteger(c) && Math.abs(c) >= 10_000 ? c.toLocaleString('en') : String(c);
  return String(c);
};

/** A fixed-width text table (numbers right-aligned). */
export const formatTable = (columns: readonly string[], rows: readonly Record<string, Cell>[]): string => {
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => text(r[c]).length)));
  const line = (cells: string[], right: boolean[]): string =>
    cells.map((c, i) => (right[i] ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  const numeric = columns.map((c) => rows.some((r) => typeof r[c] === 'number'));
  return [
    line([...columns], numeric),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map((r) => line(columns.map((c) => text(r[c])), numeric)),
  ].join('\n');
};

/** The printed form of one benchmark's result. */
export const formatResult = (r: BenchResult): string => {
  const out = [`\n## ${r.id}. ${r.title}  (${round(r.seconds, 0)} s)\n`, formatTable(r.columns, r.rows)];
  if (r.targets.length > 0) {
    out.push('', 'Targets:');
    for (const t of r.targets) {
      const verdict = t.met === null ? 'NOT CHECKED' : t.met ? 'MET' : 'NOT MET';
      out.push(`  [${verdict}] ${t.name}: target ${t.target}; measured ${t.measured} (${t.margin})`);
    }
  }
  for (const n of r.notes) out.push(`  - ${n}`);
  return out.join('\n');
};
