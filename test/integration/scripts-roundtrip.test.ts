/**
 * An account whose names are mostly non-ASCII (Chinese, Japanese, Cyrillic, Arabic, accented
 * Latin, emoji), its listing answered in pieces that split characters (test/fakes/cloudinary/
 * pieces.ts): a backup, a no-change night and a restore keep every public_id, tag and context
 * byte for byte. Once through the CLI users run (dist/cli.mjs, a child process) into a folder,
 * and once through the Lambda's bundle (lambda/entry/handler.ts bundled by esbuild with the
 * function's options, infra/backup-function.ts) into s3rver, restored by the CLI.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import type { DurableLambdaHandler } from '@aws/durable-execution-sdk-js';
import { isBackedUpType } from '../../lambda/core/asset.ts';
import { keyFor } from '../../lambda/core/keys.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { ResourceType } from '../fakes/cloudinary-fake.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import { startSecretsManagerFake } from '../fakes/secrets-manager.ts';
import { setupSkipTime, WorkClock } from '../durable-clock.ts';
import { SCRIPT_FOLDERS, SCRIPT_TAGS } from '../fixtures.ts';
import { ROOT, parseReport, runCli, s3For, s3Sha } from '../helpers.ts';

/** Names Cloudinary accepts (no `? & # \ % < > +`: docs "Permitted naming conventions"), most not ASCII. */
const NAMES = ['夏天的照片', '日本語の写真', 'папка фото', 'صورة العائلة', 'café déjà vu', 'emoji 🎉😀', 'Ünïcödé Ñoño', 'Ελληνικά', 'photo'];
const TYPES = ['upload', 'upload', 'private', 'authenticated'];

/** Fills an account: `count` assets over two listing pages of images, plus videos and raw files. */
const fill = (fake: CloudinaryFake, count: number): void => {
  for (let i = 0; i < count; i += 1) {
    const resourceType: ResourceType = i % 20 === 0 ? 'video' : i % 13 === 0 ? 'raw' : 'image';
    const folder = i % 4 === 0 ? '' : `${SCRIPT_FOLDERS[i % SCRIPT_FOLDERS.length]}/${NAMES[(i + 2) % NAMES.length]}/`;
    const name = `${folder}${NAMES[i % NAMES.length]} ${i}`;
    fake.addAsset({
      publicId: resourceType === 'raw' ? `${name}.txt` : name,
      resourceType,
      type: TYPES[i % TYPES.length] as string,
      bytes: 300 + ((i * 7919) % 3000),
      tags: i % 3 === 0 ? [SCRIPT_TAGS[i % SCRIPT_TAGS.length] as string, NAMES[(i + 5) % NAMES.length] as string] : [],
      context: i % 2 === 0 ? { alt: `${NAMES[(i + 1) % NAMES.length]} №${i}`, 説明: 'заметка | ملاحظة = é' } : {},
    });
  }
};

/** What must come back exactly, per asset, sorted by identity. */
const snapshot = (fake: CloudinaryFake) =>
  fake
    .listAssets()
    .filter(isBackedUpType)
    .map((a) => ({ id: `${a.resourceType}/${a.type}/${a.publicId}`, bytes: fake.servedSize(a), sha256: fake.expectedSha256(a), tags: [...a.tags], context: { ...a.context } }))
    .sort((x, y) => (x.id < y.id ? -1 : 1));

const COUNT = 1200;
let accounts = 0;
const account = async (filled: boolean): Promise<CloudinaryFake> => {
  accounts += 1;
  // Private and authenticated originals cost an Admin API call each on the download API: an
  // hourly allowance above the account's size keeps the runs from waiting for a reset.
  const fake = new CloudinaryFake({ cloudName: `scripts-${accounts}`, apiKey: `55555555555555${accounts}`, apiSecret: `scripts-secret-${accounts}`, rateLimit: 10_000 });
  await fake.start();
  if (filled) fill(fake, COUNT);
  return fake;
};

/** Restores `from` into a new, empty account through the CLI and checks it holds exactly what `src` held. */
const restoreMatches = async (src: CloudinaryFake, from: string, env: Record<string, string> = {}): Promise<void> => {
  const dst = await account(false);
  try {
    const r = await runCli(['restore', '--from', from, '--json', '--concurrency', '8'], { CLOUDINARY_URL: dst.cloudinaryUrl, ...env });
    assert.equal(r.code, 0, r.stderr);
    const expected = snapshot(src);
    assert.equal(parseReport(r).restored, expected.length);
    const got = snapshot(dst);
    const differ = expected.filter((e, i) => JSON.stringify(e) !== JSON.stringify(got[i]));
    assert.deepEqual(differ.slice(0, 3).map((e) => e.id), [], `${differ.length} assets came back with other names, bytes, tags or context`);
    assert.ok(!JSON.stringify(got).includes('\uFFFD'));
  } finally {
    await dst.stop();
  }
};

describe('an account named in many scripts, answered in pieces', () => {
  test('through the CLI: backup, a no-change night, restore are byte-exact', async () => {
    const src = await account(true);
    const folder = await mkdtemp(path.join(tmpdir(), 'cb-scripts-'));
    try {
      const first = await runCli(['backup', '--to', folder, '--json'], { CLOUDINARY_URL: src.cloudinaryUrl });
      assert.equal(first.code, 0, first.stderr);
      const total = snapshot(src).length;
      assert.equal(parseReport(first).copied, total);
      assert.equal(parseReport(first).failed, 0);
      src.resetStats();
      const again = await runCli(['backup', '--to', folder, '--json'], { CLOUDINARY_URL: src.cloudinaryUrl });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(parseReport(again).copied, 0, 'a no-change night copies nothing: every name listed the same way');
      assert.equal(src.stats.downloads, 0);
      await restoreMatches(src, folder);
    } finally {
      await src.stop();
      await rm(folder, { recursive: true, force: true });
    }
  });

  describe('through the Lambda bundle', () => {
    let handler: DurableLambdaHandler;
    const outdir = path.join(tmpdir(), `cb-scripts-bundle-${process.pid}`);

    before(async () => {
      // The function's bundling options (infra/backup-function.ts `bundling`), with a target this Node runs.
      await build({
        absWorkingDir: ROOT,
        entryPoints: { index: 'lambda/entry/handler.ts' },
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        mainFields: ['module', 'main'],
        banner: { js: "import { createRequire as __cbCreateRequire } from 'node:module'; const require = __cbCreateRequire(import.meta.url);" },
        minify: true,
        keepNames: true,
        outdir,
        outExtension: { '.js': '.mjs' },
        logLevel: 'warning',
      });
      handler = ((await import(pathToFileURL(path.join(outdir, 'index.mjs')).href)) as { handler: DurableLambdaHandler }).handler;
    });

    after(async () => {
      await rm(outdir, { recursive: true, force: true });
    });

    test('backup, a no-change night, and a CLI restore from its bucket are byte-exact', async () => {
      const src = await account(true);
      const bucket = 'scripts';
      const prefix = 'cld';
      const secretArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:scripts-AbCdEf';
      const s3rver = await startS3rver([bucket]);
      const sm = await startSecretsManagerFake({ [secretArn]: src.cloudinaryUrl });
      const saved = { ...process.env };
      Object.assign(process.env, s3rver.env, {
        AWS_ENDPOINT_URL_S3: s3rver.endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
        BUCKET_NAME: bucket,
        PREFIX: prefix,
        SECRET_ARN: secretArn,
        CONCURRENCY: '8',
        PRUNE: 'false',
        RESOURCE_TYPES: 'image,video,raw',
        POWERTOOLS_METRICS_DISABLED: 'true',
      });
      const night = async () => {
        const clock = new WorkClock(WorkClock.fromCounters(() => src.stats.downloadBytes, () => src.stats.adminCalls, 0.01, 2000));
        await setupSkipTime(LocalDurableTestRunner);
        try {
          const execution = await new LocalDurableTestRunner({ handlerFunction: clock.wrap(handler) }).run({ payload: { trigger: 'schedule' } });
          assert.equal(execution.getStatus(), 'SUCCEEDED', execution.getStatus() === 'FAILED' ? JSON.stringify(execution.getError()) : '');
          return execution.getResult() as { copied: number; failed: number };
        } finally {
          await LocalDurableTestRunner.teardownTestEnvironment();
        }
      };
      try {
        const expected = snapshot(src);
        const first = await night();
        assert.equal(first.copied, expected.length);
        assert.equal(first.failed, 0);
        const s3 = s3For(s3rver.endpoint);
        for (const a of src.listAssets().filter(isBackedUpType)) {
          assert.equal(await s3Sha(s3, bucket, keyFor(prefix, a)), src.expectedSha256(a), `stored under the key of ${a.publicId}`);
        }
        src.resetStats();
        const second = await night();
        assert.equal(second.copied, 0, 'a no-change night copies nothing');
        assert.equal(src.stats.downloads, 0);
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
        await restoreMatches(src, `s3://${bucket}/${prefix}`, s3rver.env);
      } finally {
        for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
        Object.assign(process.env, saved);
        await Promise.all([sm.stop(), src.stop(), s3rver.stop()]);
      }
    });
  });
});
