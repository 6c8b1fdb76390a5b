import type { BenchContext } from './context.ts';
import type { BenchResult, Cell, TargetCheck } from './table.ts';
import { marginBelow, mib, round, seconds } from './table.ts';
import { listingPages } from './world.ts';
import type { NoChangeResult } from './world.ts';

/** Targets for a no-change night with --diff list. */
const WALL_LIMIT_S = 60;
const RSS_LIMIT_MIB = 400;
const S3_PER_1000 = 1;

/** "ListObjectsV2 100 · GetObject 202 · ..." in a stable order. */
export const requestSummary = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([op, n]) => `${op} ${n}`)
    .join(' · ');

const total = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/**
 * 2. A night with nothing to copy, over an account already backed up: what it costs in time,
 * memory, Admin API calls and S3 requests, with the ListObjectsV2 inventory (--diff list,
 * the default) and with one HeadObject per asset (--diff head).
 */
export const benchNoChange = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = Date.now();
  const n = ctx.quick ? 5_000 : 100_000;
  const world = await ctx.world(n);
  const expectedCalls = listingPages(world.perType);
  const runs: Array<[string, NoChangeResult]> = [];
  for (const diff of ['list', 'head'] as const) runs.push([diff, await ctx.noChange(n, diff)]);
  const rows: Record<string, Cell>[] = runs.map(([diff, r]) => ({
    '--diff': diff,
    assets: n,
    'wall s': seconds(r.wallMs),
    'peak RSS MiB': mib(r.peakRssBytes),
    'CPU s': r.cpuSeconds === null ? null : round(r.cpuSeconds),
    'S3 server CPU s': r.cpu.s3rver === null ? null : round(r.cpu.s3rver),
    'Admin API calls': r.adminCalls,
    'S3 requests': total(r.s3Requests),
    'S3 per 1k assets': round((total(r.s3Requests) / n) * 1000, 2),
  }));
  const list = runs[0]?.[1] as NoChangeResult;
  const listS3 = total(list.s3Requests);
  const catalogish = (list.s3Requests.GetObject ?? 0) + (list.s3Requests.PutObject ?? 0);
  const targets: TargetCheck[] = [
    {
      name: 'wall time, --diff list',
      target: `< ${WALL_LIMIT_S} s`,
      measured: `${seconds(list.wallMs)} s`,
      met: ctx.quick ? null : list.wallMs < WALL_LIMIT_S * 1000,
      margin: marginBelow(list.wallMs / 1000, WALL_LIMIT_S),
    },
    {
      name: 'peak RSS, --diff list',
      target: `< ${RSS_LIMIT_MIB} MiB`,
      measured: `${mib(list.peakRssBytes)} MiB`,
      met: ctx.quick ? null : list.peakRssBytes < RSS_LIMIT_MIB * 2 ** 20,
      margin: marginBelow(list.peakRssBytes / 2 ** 20, RSS_LIMIT_MIB),
    },
    ...runs.map(([diff, r]) => ({
      name: `Admin API calls = listing pages, --diff ${diff}`,
      target: `${expectedCalls} (ceil(n/500) per resource type: ${Object.entries(world.perType).map(([t, c]) => `${t} ${c}`).join(', ')}; plus one empty page per other delivery type)`,
      measured: String(r.adminCalls),
      met: r.adminCalls === expectedCalls,
      margin: r.adminCalls === expectedCalls ? 'exact' : `${r.adminCalls - expectedCalls} extra`,
    })),
    {
      name: 'S3 requests, --diff list',
      target: `≤ ${S3_PER_1000} per 1,000 assets (${Math.floor((n / 1000) * S3_PER_1000)})`,
      measured: `${listS3} (${round((listS3 / n) * 1000, 2)} per 1,000)`,
      met: listS3 <= (n / 1000) * S3_PER_1000,
      margin: marginBelow(listS3, (n / 1000) * S3_PER_1000),
    },
  ];
  const notes = [
    `S3 requests by type — ${runs.map(([diff, r]) => `${diff}: ${requestSummary(r.s3Requests)}`).join('; ')}.`,
    `Of the list run's ${listS3} S3 requests, ${list.s3Requests.ListObjectsV2 ?? 0} are the inventory (1 per 1,000 keys) and ${catalogish} are GetObject/PutObject: ` +
      'the catalog (the previous one read back page by page, a new one written page by page, one object per 500-asset listing page), its pointer, the write check and the run report.',
    `Seeded in ${round(world.seedSeconds)} s (objects written straight into the ${world.s3Backend} S3 server's store, the catalog through the S3 API: see test/bench/seed.ts).`,
    `CPU s: the CLI process (user+system); S3 server CPU s: the ${world.s3Backend} S3 server's process. Both share 2 cores with the fake.`,
  ];
  return {
    id: 2,
    title: `No-change night at scale (${n.toLocaleString('en')} assets)`,
    columns: ['--diff', 'assets', 'wall s', 'peak RSS MiB', 'CPU s', 'S3 server CPU s', 'Admin API calls', 'S3 requests', 'S3 per 1k assets'],
    rows,
    targets,
    notes,
    seconds: (Date.now() - started) / 1000,
    details: Object.fromEntries(runs.map(([diff, r]) => [diff, { s3Requests: r.s3Requests, cpu: r.cpu, listingCalls: r.listingCalls, rssSource: r.rssSource }])),
  };
};
