import { tuneHeap } from '../../bin/heap.js';
import { RestoreEngine } from '../../lambda/restore/restore.ts';
import { verifyBackup } from '../../lambda/verify/verify.ts';
import type { Uploader } from '../../lambda/ports/upload.ts';
import { PREFIX, SyntheticAccount, SyntheticBackup } from './synthetic-world.ts';

// Child of bench-verify-restore.ts, bundled with esbuild as the CLI is (scripts/build-cli.mjs)
// and run with plain node: one verify or restore over a synthetic backup of N assets
// (synthetic-world.ts, generated on read: the process's memory is the engine's). Prints one
// JSON line with the report's counts, so the parent can check the run saw every asset.
//   node child.mjs MODE N
// MODE: verify | verify-deep | verify-source | restore-dry (account empty: the whole plan) |
//       restore-source (account holds every other asset: the existence check and the plan)
// The heap setting the CLI's bin applies at every start (bin/heap.js), so the figure is what
// `cloudinary-backup verify` / `restore` peak at.
tuneHeap();
const [mode, nArg] = process.argv.slice(2);
const n = Number(nArg);
const backup = new SyntheticBackup(n);

/** No upload happens in a dry run; one that did would be a bug the parent must see. */
const uploader: Uploader = {
  description: 'no account',
  upload: () => Promise.reject(new Error('a dry run uploaded')),
};

const run = async (): Promise<Record<string, unknown>> => {
  if (mode === 'verify' || mode === 'verify-deep' || mode === 'verify-source') {
    const source = mode === 'verify-source' ? new SyntheticAccount(n, () => true) : undefined;
    const r = await verifyBackup(backup, { prefix: PREFIX, deep: mode === 'verify-deep', concurrency: 8 }, source);
    return { entries: r.entries, objects: r.objects, hashed: r.hashed, ok: r.ok, problems: r.missing + r.extra + r.corrupt + r.notBackedUp + r.outdated, apiCalls: r.cloudinaryApiCalls };
  }
  if (mode === 'restore-dry' || mode === 'restore-source') {
    const account = new SyntheticAccount(n, mode === 'restore-dry' ? () => false : (i) => i % 2 === 0);
    let planned = 0;
    const engine = new RestoreEngine(account, uploader, backup, { prefix: PREFIX, overwrite: false, dryRun: true, concurrency: 4 }, { planned: (x: number | readonly unknown[]) => (planned = typeof x === 'number' ? x : x.length) });
    const r = await engine.run();
    return { listed: r.listed, plannedUploads: r.plannedUploads, skipped: r.skipped, failed: r.failed, planned, apiCalls: r.cloudinaryApiCalls };
  }
  throw new Error(`unknown mode ${mode}`);
};

const started = process.hrtime.bigint();
const summary = await run();
const m = process.memoryUsage();
process.stdout.write(`${JSON.stringify({ mode, n, ...summary, seconds: Number(process.hrtime.bigint() - started) / 1e9, heapUsedEnd: m.heapUsed, heapTotalEnd: m.heapTotal, externalEnd: m.external, arrayBuffersEnd: m.arrayBuffers, rssEnd: m.rss })}\n`);
