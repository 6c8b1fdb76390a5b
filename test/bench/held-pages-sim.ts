/**
 * How large a durable step's checkpoint grows with held pages (review of the step without a page
 * barrier): a simulated first backup of PAGES listing pages of 500 assets, 8 in flight,
 * each page ending with one slow download (`BIGMS` of Lambda time) that keeps its page unfinished
 * while the next pages' copies end. The Lambda clock is simulated (1 s of Lambda time per small
 * copy, plus a ticker), the source and destination are in memory, and every invocation is a new
 * engine started from the last checkpoint, as NightlyRun.page leaves it. Records per run: the
 * largest checkpoint (JSON.stringify(RunState) bytes: what the durable SDK stores), the largest
 * `ahead` set, the invocations, and whether the committed catalog holds every asset once.
 *
 *   node --import tsx test/bench/held-pages-sim.ts OUT.json [--runs=3]
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import type { Asset } from '../../lambda/core/asset.ts';
import type { OpenedAsset } from '../../lambda/ports/storage.ts';
import { BackupEngine } from '../../lambda/backup/engine.ts';
import type { EngineOptions, RunState } from '../../lambda/backup/engine.ts';
import { Catalog } from '../../lambda/store/catalog.ts';
import { HoldingSource } from '../fakes/holding-source.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';

const PER = 500;
const SMALL = 100_000;

interface Config {
  readonly pages: number;
  readonly bigMs: number;
  readonly catalogPageEntries: number;
}

/** One simulated first backup; see the file comment. */
const simulate = async (cfg: Config) => {
  const pages = Array.from({ length: cfg.pages }, (_, p) => Array.from({ length: PER }, (_, i) => (i === PER - 1 ? `p${p}-big` : `p${p}-${i}`)));
  const clock = { left: 900_000 };
  const downloads = new Map<string, number>();
  class Timed extends HoldingSource {
    override async open(a: Asset, signal?: AbortSignal): Promise<OpenedAsset> {
      downloads.set(a.publicId, (downloads.get(a.publicId) ?? 0) + 1);
      if (a.publicId.endsWith('big')) {
        // A download slower than its size says: the gate lets it start, the clock may cut it off.
        const until = clock.left - cfg.bigMs;
        while (clock.left > until) {
          if (signal?.aborted) throw new Error('aborted');
          await new Promise((r) => setTimeout(r, 1));
        }
      } else clock.left -= 1000;
      return super.open(a, signal);
    }
  }
  const dest = new MemoryDestination();
  const opts: EngineOptions = { prefix: '', resourceTypes: ['image'], concurrency: 8, diff: 'list', dryRun: false, prune: false, retryDelayMs: 0, catalogPageEntries: cfg.catalogPageEntries };
  const engine = () => {
    const s = new Timed(pages, new Set());
    s.sizes = () => SMALL;
    return new BackupEngine(s, dest, opts);
  };
  let e = engine();
  let state: RunState = await e.start();
  let maxCheckpointBytes = 0;
  let maxAheadIds = 0;
  let maxDoneIds = 0;
  let invocations = 1;
  let fresh = true;
  const ticker = setInterval(() => (clock.left -= 200), 1);
  try {
    for (let steps = 0; !state.listingComplete && steps < 1000; steps += 1) {
      const bound = { timeLeft: () => clock.left, fresh, bytesPerMs: SMALL / 1000 };
      fresh = false;
      state = await e.persist(await e.step(state, bound, { pages: Infinity, untilCatalogPage: true }));
      maxCheckpointBytes = Math.max(maxCheckpointBytes, Buffer.byteLength(JSON.stringify({ state })));
      maxAheadIds = Math.max(maxAheadIds, (state.ahead?.done.length ?? 0) + (state.ahead?.interrupted.length ?? 0));
      maxDoneIds = Math.max(maxDoneIds, (state.page?.done.length ?? 0) + (state.page?.interrupted.length ?? 0));
      // NightlyRun.page yields when its page is unfinished or the time is low: a new invocation.
      if (state.page !== undefined || clock.left < 120_000) {
        invocations += 1;
        clock.left = 900_000;
        fresh = true;
        e = engine();
      }
    }
  } finally {
    clearInterval(ticker);
  }
  const report = await e.finish(state);
  const entries: string[] = [];
  for await (const x of new Catalog(dest, '', 0).entries()) entries.push(x.publicId);
  return {
    invocations,
    maxCheckpointBytes,
    maxAheadIds,
    maxDoneIds,
    assets: cfg.pages * PER,
    copied: report.copied,
    failed: report.failed,
    catalogEntries: entries.length,
    catalogDistinct: new Set(entries).size,
    downloadsRepeated: [...downloads.values()].filter((n) => n > 1).length,
  };
};

const out = process.argv[2];
if (!out) throw new Error('usage: held-pages-sim.ts OUT.json [--runs=3]');
const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 3);
const configs: Config[] = [
  { pages: 20, bigMs: 300_000, catalogPageEntries: 10_000 },
  { pages: 20, bigMs: 500_000, catalogPageEntries: 10_000 },
  { pages: 20, bigMs: 700_000, catalogPageEntries: 10_000 },
  { pages: 20, bigMs: 500_000, catalogPageEntries: 1_000 },
];
const loadBefore = loadavg()[0];
const results = [];
for (const cfg of configs) {
  for (let r = 0; r < runs; r += 1) {
    const res = await simulate(cfg);
    console.log(JSON.stringify({ ...cfg, run: r + 1, ...res }));
    results.push({ ...cfg, run: r + 1, ...res });
  }
}
const file = {
  what: 'held-pages checkpoint size: simulated first backups through BackupEngine.step as NightlyRun.page runs it (see test/bench/held-pages-sim.ts)',
  commit: execFileSync('git', ['rev-parse', '--short', 'HEAD']).toString().trim(),
  date: new Date().toISOString(),
  node: process.version,
  loadAverage: { before: loadBefore, after: loadavg()[0] },
  checksums: 'n/a (in-memory destination; no S3 client)',
  limit: 'checkpoint payload 256 KB (durable execution limits; docs.rs durable-execution-sdk docs/limits)',
  results,
};
await writeFile(out, `${JSON.stringify(file, null, 2)}\n`);
