import { seedWorld, noChangeRun } from './world.ts';
import type { NoChangeResult, SeededWorld } from './world.ts';
import type { BenchOptions } from './options.ts';

/** What every benchmark gets: the options, a logger and the seeded accounts they share. */
export interface BenchContext {
  readonly quick: boolean;
  /** Node.js binaries besides this one (benchmark 3). */
  readonly extraNodes: readonly string[];
  /** Everything the command line asked for (runs, sizes, profiles). */
  readonly options: BenchOptions;
  log(line: string): void;
  /** An account of n small assets, backed up once (made once per `npm run bench`). */
  world(n: number): Promise<SeededWorld>;
  /** A no-change run of world(n) (each mode measured once per `npm run bench`). */
  noChange(n: number, diff: 'list' | 'head'): Promise<NoChangeResult>;
  /** Stops every seeded account and deletes its s3rver folder. */
  dropWorlds(): Promise<void>;
}

/** A context whose worlds and no-change runs are shared between benchmarks 2 and 4. */
export const createContext = (options: {
  quick: boolean;
  extraNodes: readonly string[];
  options: BenchOptions;
  log: (line: string) => void;
}): BenchContext => {
  const worlds = new Map<number, Promise<SeededWorld>>();
  const runs = new Map<string, Promise<NoChangeResult>>();
  const ctx: BenchContext = {
    ...options,
    world: (n) => {
      let w = worlds.get(n);
      if (!w) {
        options.log(`  seeding an account of ${n.toLocaleString('en')} assets`);
        worlds.set(n, (w = seedWorld(n, options.log, options.options.s3Backend)));
      }
      return w;
    },
    noChange: (n, diff) => {
      const key = `${n}:${diff}`;
      let r = runs.get(key);
      if (!r) {
        runs.set(
          key,
          (r = (async () => {
            const world = await ctx.world(n);
            options.log(`  no-change run, ${n.toLocaleString('en')} assets, --diff ${diff}`);
            const result = await noChangeRun(world, diff);
            options.log(`    ${(result.wallMs / 1000).toFixed(1)} s, peak RSS ${Math.round(result.peakRssBytes / 2 ** 20)} MiB`);
            return result;
          })()),
        );
      }
      return r;
    },
    dropWorlds: async () => {
      const all = [...worlds.values()];
      worlds.clear();
      runs.clear();
      for (const w of all) await (await w.catch(() => undefined))?.stop();
    },
  };
  return ctx;
};
