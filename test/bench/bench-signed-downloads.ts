/**
 * The Admin API calls of a first backup of an account with N private assets (default 2,000),
 * ours beside a baseline checkout, each against a fresh Cloudinary fake, into a local folder
 * (the destination does not change what Cloudinary is asked). Before signed delivery URLs, every
 * private original was one call of the signed download API; after, none.
 *
 *   git archive b2d59f9 lambda bin scripts package.json tsconfig.json | tar -x -C /tmp/old && ln -s $PWD/node_modules /tmp/old/node_modules
 *   node --import tsx test/bench/bench-signed-downloads.ts --baseline=/tmp/old [--assets=2000] [--out=test/bench/results/FILE.json]
 *
 * Both checkouts run their sources through tsx (CLOUDINARY_BACKUP_LOADER=tsx), so neither needs a
 * bundle; the loader changes the time, not the requests. The fake's hourly limit is set far above
 * what either run needs, so that neither waits for a reset: the hours a Free plan would need are
 * derived from the calls (500 an hour, 10% kept for the user's app by default: 450 usable).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { writeResults } from './measure.ts';
import { BIN } from '../helpers.ts';
import { runBackup } from './world.ts';

const { values } = parseArgs({ options: { baseline: { type: 'string' }, assets: { type: 'string', default: '2000' }, out: { type: 'string' } } });
const assets = Number(values.assets);
/** The Free plan's hourly Admin API limit and what the default 10% reserve leaves of it. */
const FREE_PLAN_HOURLY = 500;
const USABLE_PER_HOUR = FREE_PLAN_HOURLY - Math.ceil(FREE_PLAN_HOURLY * 0.1);

/** One first backup with the CLI at `bin`: its report's figures and what the fake was asked. */
const firstBackup = async (label: string, bin: string): Promise<Record<string, unknown>> => {
  const fake = new CloudinaryFake({ cloudName: 'bench-private', apiKey: '111122223333444', apiSecret: 'bench-secret-value', rateLimit: 1_000_000 });
  await fake.start();
  const folder = await mkdtemp(path.join(tmpdir(), 'cb-bench-signed-'));
  try {
    for (let i = 0; i < assets; i += 1) {
      fake.addAsset({ publicId: `vault/${String(i).padStart(5, '0')} фото`, type: i % 2 ? 'private' : 'authenticated', bytes: 2048 + (i % 97) });
    }
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, CLOUDINARY_URL: fake.cloudinaryUrl, CLOUDINARY_BACKUP_LOADER: 'tsx', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    const run = await runBackup(['--to', folder], env, { bin, timeoutMs: 1_800_000 });
    if (run.report.copied !== assets || run.report.failed !== 0) throw new Error(`${label}: copied ${run.report.copied}, failed ${run.report.failed}`);
    const r = fake.stats.requests;
    const calls = run.report.cloudinaryApiCalls;
    const figures = {
      checkout: label,
      copied: run.report.copied,
      cloudinaryApiCalls: calls,
      requests: { listing: r.listing, metadataFields: r.metadata, downloadApi: r.download, delivery: r.delivery },
      fakeAdminCalls: fake.stats.adminCalls,
      freePlanHours: Math.ceil(calls / USABLE_PER_HOUR),
      wallSeconds: Math.round(run.wallMs / 100) / 10,
    };
    console.log(`${label}: ${calls} Admin API calls (listing ${r.listing}, download API ${r.download}, delivery ${r.delivery}), ${figures.freePlanHours} hour(s) of a Free plan, ${figures.wallSeconds} s`);
    return figures;
  } finally {
    await fake.stop();
    await rm(folder, { recursive: true, force: true });
  }
};

const runs: Record<string, unknown>[] = [];
if (values.baseline) runs.push(await firstBackup(`baseline ${values.baseline}`, path.join(values.baseline, 'bin', 'cloudinary-backup.js')));
runs.push(await firstBackup('ours', BIN));
if (values.out) {
  writeResults(values.out, {
    benchmark: `first backup of ${assets} private and authenticated image assets (half each), Admin API calls`,
    freePlanUsableCallsPerHour: USABLE_PER_HOUR,
    runs,
  });
}
