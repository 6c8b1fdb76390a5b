/**
 * Real-account behaviours, restore side: a dynamic-folder account gets its folder tree and shown names back, a
 * protected asset stays protected (access_mode, access_control), and the structured metadata
 * field definitions saved with the backup are created in the target first (conflicts reported),
 * so assets with structured metadata are not refused. Backup and restore run through the CLI;
 * the field definitions are saved in-process with backupMetadataFields (the run wires it).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalDestination } from '../../lambda/adapters/local/folder.ts';
import { openCloudinary } from '../../lambda/entry/compose.ts';
import { backupMetadataFields, loadMetadataFields } from '../../lambda/store/metadata-fields.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import { parseReport, runCli } from '../helpers.ts';

describe('restore keeps folders, shown names, access and metadata fields', () => {
  let src: CloudinaryFake;
  let dst: CloudinaryFake;
  let folder: string;

  before(async () => {
    src = new CloudinaryFake({ cloudName: 'df-source', apiKey: 'srckey', apiSecret: 'src-secret-1' });
    dst = new CloudinaryFake({ cloudName: 'df-target', apiKey: 'dstkey', apiSecret: 'dst-secret-2', requireMetadataFields: true });
    await Promise.all([src.start(), dst.start()]);
    src.metadataFields.add({ external_id: 'sku', type: 'string', label: 'SKU' });
    src.metadataFields.add({
      external_id: 'colour',
      type: 'set',
      label: 'Colour',
      datasource: { values: [{ external_id: 'red', value: 'Red' }, { external_id: 'green', value: 'Green' }] },
    });
    src.metadataFields.add({ external_id: 'rating', type: 'integer', label: 'Rating' });
    // The target already has `rating`, as a string: a conflict to report, not to overwrite.
    dst.metadataFields.add({ external_id: 'rating', type: 'string', label: 'Rating' });
    src.addAsset({ publicId: 'a8f3k2', bytes: 2000, assetFolder: 'Shop/Shoes', displayName: 'Red sneaker', metadata: { sku: 'S-1', colour: ['red'] } });
    src.addAsset({ publicId: 'q9z1', bytes: 2100, assetFolder: 'Shop', displayName: 'Banner' });
    src.addAsset({ publicId: 'members/card', bytes: 2200, accessMode: 'authenticated' });
    src.addAsset({ publicId: 'members/token', bytes: 2300, accessControl: [{ access_type: 'token' }] });
    folder = await mkdtemp(path.join(tmpdir(), 'cb-place-'));
    const r = await runCli(['backup', '--to', folder, '--json'], { CLOUDINARY_URL: src.cloudinaryUrl });
    assert.equal(r.code, 0, r.stderr);
    const cloud = await openCloudinary(src.cloudinaryUrl);
    assert.equal(await backupMetadataFields(cloud.source, new LocalDestination(folder), ''), 3);
    assert.equal(cloud.source.apiCalls, 1, 'one Admin API call for the field definitions');
  });

  after(async () => {
    await Promise.all([src.stop(), dst.stop()]);
    await rm(folder, { recursive: true, force: true });
  });

  test('the field definitions are saved under _catalog/ with their datasource values', async () => {
    const saved = await loadMetadataFields(new LocalDestination(folder), '');
    const colour = saved?.fields.find((f) => f.external_id === 'colour');
    assert.deepEqual(colour?.datasource?.values?.map((v) => v.external_id), ['red', 'green']);
  });

  test('a dry run shows the folders and the fields it would create, and creates nothing', async () => {
    const r = await runCli(['restore', '--from', folder, '--dry-run'], { CLOUDINARY_URL: dst.cloudinaryUrl });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /a8f3k2.*into folder Shop\/Shoes/);
    assert.match(r.stdout, /q9z1.*into folder Shop\b/);
    const json = parseReport(await runCli(['restore', '--from', folder, '--dry-run', '--json'], { CLOUDINARY_URL: dst.cloudinaryUrl }));
    assert.deepEqual(json['folders'], ['Shop', 'Shop/Shoes']);
    assert.deepEqual(json['metadataFieldsCreated'], ['sku', 'colour']);
    assert.deepEqual(dst.metadataFields.list().map((f) => f.external_id), ['rating'], 'a dry run creates no field');
  });

  test('restore creates the missing fields first, reports the conflict, and keeps folders, names and access', async () => {
    const r = await runCli(['restore', '--from', folder, '--json'], { CLOUDINARY_URL: dst.cloudinaryUrl });
    const report = parseReport(r);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(report.failures, []);
    assert.equal(report['restored'], 4);
    assert.deepEqual(report['metadataFieldsCreated'], ['sku', 'colour']);
    assert.deepEqual((report['metadataFieldConflicts'] as Array<{ externalId: string }>).map((c) => c.externalId), ['rating']);
    assert.deepEqual(dst.metadataFields.list().map((f) => f.external_id).sort(), ['colour', 'rating', 'sku']);
    assert.equal(dst.metadataFields.list().find((f) => f.external_id === 'rating')?.type, 'string', 'the conflicting field is left as it was');
    const shoe = dst.getAsset('a8f3k2');
    assert.equal(shoe?.assetFolder, 'Shop/Shoes');
    assert.equal(shoe?.displayName, 'Red sneaker');
    assert.deepEqual(shoe?.metadata, { sku: 'S-1', colour: ['red'] });
    assert.equal(dst.getAsset('q9z1')?.assetFolder, 'Shop');
    assert.equal(dst.getAsset('members/card')?.accessMode, 'authenticated', 'a protected asset stays protected');
    assert.deepEqual(dst.getAsset('members/token')?.accessControl, [{ access_type: 'token' }]);
  });
});

describe('restore reports each asset Cloudinary refuses', () => {
  let src: CloudinaryFake;
  let dst: CloudinaryFake;
  let folder: string;

  before(async () => {
    src = new CloudinaryFake({ cloudName: 'names-src', apiKey: 'nsk', apiSecret: 'names-secret-1' });
    dst = new CloudinaryFake({ cloudName: 'names-dst', apiKey: 'ndk', apiSecret: 'names-secret-2' });
    await Promise.all([src.start(), dst.start()]);
    src.addAsset({ publicId: 'fine/photo', bytes: 1500 });
    src.addAsset({ publicId: 'sale 50%+', bytes: 1600 });
    // 11 MB image: above a Free plan's 10 MB image limit (the fake's media_limits).
    src.addAsset({ publicId: 'huge/poster', format: 'png', bytes: 11_000_000 });
    folder = await mkdtemp(path.join(tmpdir(), 'cb-names-'));
    const r = await runCli(['backup', '--to', folder, '--json'], { CLOUDINARY_URL: src.cloudinaryUrl });
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    await Promise.all([src.stop(), dst.stop()]);
    await rm(folder, { recursive: true, force: true });
  });

  test('a forbidden public_id and a file over the plan limit are named with Cloudinary\'s reason; the rest is restored', async () => {
    const r = await runCli(['restore', '--from', folder, '--json'], { CLOUDINARY_URL: dst.cloudinaryUrl });
    assert.equal(r.code, 1, r.stderr);
    const report = parseReport(r);
    assert.equal(report['restored'], 1);
    const why = new Map(report.failures.map((f) => [f.publicId, f.error]));
    // Refused by Cloudinary's naming rules (docs "Permitted naming conventions"): named with the
    // rule, not uploaded and not renamed.
    assert.match(why.get('sale 50%+') ?? '', /not uploaded: Cloudinary refuses this public_id \(a public_id may not contain .*"%"/);
    assert.match(why.get('huge/poster') ?? '', /File size too large\. Got 11000000\. Maximum is 10485760/);
    assert.ok(dst.getAsset('fine/photo'));
    assert.equal(dst.listAssets().length, 1, 'nothing stored under another name');
    assert.equal(dst.stats.requests.upload, 2, 'no upload was sent for the refused name');
  });
});
