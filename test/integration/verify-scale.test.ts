/**
 * verify at scale: verify no longer holds the whole Cloudinary listing (--source
 * compares it a batch of 500 assets at a time) nor one pending promise per object (--deep runs a
 * few workers over the list). These checks must still see every asset and every object: with
 * more assets than one batch, a problem in a full batch and one in the last, partial batch are
 * both named, and a deep check hashes every object once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseReport, runCli } from '../helpers.ts';
import { seedWorld } from '../bench/world.ts';
import type { SeededWorld } from '../bench/world.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** 1,234 assets: 864 images, 247 videos, 123 raw files — batches of 500, 500 and 234. */
const N = 1_234;

describe('verify over more assets than one batch', () => {
  let world: SeededWorld;
  before(async () => {
    world = await seedWorld(N, () => undefined);
  });
  after(async () => {
    await world?.stop();
  });
  const verify = (...args: string[]) => runCli(['verify', '--against', world.target, ...args, '--json'], world.env);

  test('--deep hashes every object exactly once', async () => {
    const r = await verify('--deep');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = parseReport(r);
    assert.equal(report.hashed, N);
    assert.equal(report.entries, N);
    assert.equal(report.corrupt, 0);
  });

  test('--source names an asset missing from a full batch and one from the last batch', async () => {
    const listed = world.fake.listAssets();
    // Listing order is creation order per resource type: images first, raw files last.
    const first = listed.find((a) => a.resourceType === 'image') as (typeof listed)[number];
    world.fake.replaceAsset(first.publicId, first.resourceType, first.type, { bytes: first.bytes + 1, version: first.version + 1 });
    const late = world.fake.addAsset({ publicId: 'zz/late.bin', resourceType: 'raw', bytes: 1000 });
    const r = await verify('--source');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const report = parseReport(r) as unknown as { problems: Array<{ kind: string; publicId?: string }> };
    assert.deepEqual(
      report.problems.map((p) => [p.kind, p.publicId]),
      [
        ['notBackedUp', late.publicId],
        ['outdated', first.publicId],
      ],
    );
  });
});
