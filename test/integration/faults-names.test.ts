/**
 * Hostile and odd public_ids (docs/architecture.md, "What goes where"): every one is backed up, byte for
 * byte, to a safe key (no `.`/`..`/empty segment, no control character or backslash, at most
 * 1,024 bytes), in S3 and in a folder; nothing is written outside the folder; twins that differ
 * only by case or Unicode normalization get two keys; the catalog maps every key back to its
 * exact public_id, which is what restore reads. A restore brings back under its exact public_id
 * every name Cloudinary's Upload API accepts, and reports each one it refuses (Cloudinary docs,
 * "Permitted naming conventions": 1-255 characters, no `?&#\%<>+`, no leading or trailing
 * whitespace or `/`), uploading nothing for it. (Part sizes for objects over 5 GiB, up to
 * S3's 10,000 parts: test/unit/part-size.test.ts.)
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { decodeEncodedKey } from '../../lambda/core/keys.ts';
import { CloudinaryFake } from '../fakes/cloudinary-fake.ts';
import type { FakeAssetSpec } from '../fakes/cloudinary-fake.ts';
import { FaultRig } from '../fault-rig.ts';

/**
 * Public_ids to back up, each with what makes it hostile; `refused` names the rule of Cloudinary's
 * "Permitted naming conventions" page an upload of it breaks (read from the page, not from our code).
 */
const HOSTILE: ReadonlyArray<FakeAssetSpec & { why: string; refused?: string }> = [
  { why: "'..' alone", publicId: '..' },
  { why: "'.' alone", publicId: '.' },
  { why: "'..' segment", publicId: 'a/../b' },
  { why: "'.' segment", publicId: './c' },
  { why: 'traversal out of the folder', publicId: '../../../../outside/escape', resourceType: 'raw', format: '' },
  { why: 'leading slash', publicId: '/lead', refused: 'leading /' },
  { why: 'trailing slash', publicId: 'trail/', refused: 'trailing /' },
  { why: 'percent', publicId: '100%', refused: '%' },
  { why: 'percent escape look-alike', publicId: 'a%2Fb', refused: '%' },
  { why: 'plus', publicId: 'a+b', refused: '+' },
  { why: 'hash', publicId: 'c#d', refused: '#' },
  { why: 'question mark', publicId: 'why?x=1', refused: '?' },
  { why: 'backslashes', publicId: '..\\..\\windows\\x', refused: '\\' },
  { why: 'control characters', publicId: 'bell\u0007tab\tnl\ncr\r\u007f' },
  { why: '2,000-byte name, one segment', publicId: 'n'.repeat(2000), refused: 'over 255 characters' },
  { why: '2,000-byte name, short segments', publicId: 'abcdefghi/'.repeat(199) + 'z'.repeat(10), refused: 'over 255 characters' },
  { why: 'case twin (upper)', publicId: 'Twin' },
  { why: 'case twin (lower)', publicId: 'twin' },
  { why: 'NFC twin', publicId: 'caf\u00e9' },
  { why: 'NFD twin', publicId: 'cafe\u0301' },
  { why: 'zero-byte file', publicId: 'empty', bytes: 0 },
  { why: 'zero-byte raw file, no format', publicId: 'empty.bin', resourceType: 'raw', format: '', bytes: 0 },
  { why: 'raw file with empty format', publicId: 'docs/README', resourceType: 'raw', format: '' },
  { why: 'image with empty format', publicId: 'no-format', format: '' },
  { why: "reserved folder '_encoded'", publicId: '_encoded/aGVsbG8' },
  { why: 'private, with a traversal', publicId: '../private/secret', type: 'private' },
];

for (const kind of ['s3', 'folder'] as const) {
  describe(`hostile public_ids (${kind === 's3' ? 's3rver' : 'local folder'})`, () => {
    let rig: FaultRig;

    before(async () => {
      rig = await FaultRig.start(kind);
      for (const { why: _why, ...spec } of HOSTILE) rig.fake.addAsset({ bytes: 777, ...spec });
    });

    after(() => rig.stop());

    test('every one is backed up byte for byte to a safe key; a rerun copies nothing', async () => {
      const run = await rig.backup();
      assert.equal(run.result.code, 0, `${run.result.stderr}\n${JSON.stringify(run.report?.failures, null, 1)}`);
      assert.equal(run.report?.copied, HOSTILE.length);
      const present = await rig.present();
      const keys = new Set<string>();
      for (const a of rig.assets()) {
        const key = rig.keyOf(a);
        assert.equal(present.get(key), rig.fake.expectedSha256(a), `bytes of ${JSON.stringify(a.publicId.slice(0, 40))}`);
        assert.ok(Buffer.byteLength(key) <= 1024, `key of ${Buffer.byteLength(key)} bytes`);
        for (const seg of key.split('/')) assert.ok(seg !== '' && seg !== '.' && seg !== '..', `segment ${JSON.stringify(seg)} in ${key}`);
        assert.doesNotMatch(key, /[\u0000-\u001f\u007f\\]/);
        keys.add(key);
      }
      assert.equal(keys.size, HOSTILE.length, 'twins get keys of their own');
      const again = await rig.backup();
      assert.equal(again.report?.copied, 0);
      assert.equal(again.report?.unchanged, HOSTILE.length);
    });

    test('the catalog maps every key back to its exact public_id (what restore reads)', async () => {
      // Format 3 (docs/history.md): page p is the file named hashes[p].
      const pointer = JSON.parse(await rig.text(rig.root('_catalog/current.json'))) as { pages: number; hashes: string[] };
      const entries = new Map<string, string>();
      for (let p = 0; p < pointer.pages; p += 1) {
        const page = await rig.text(rig.root(`_catalog/pages/${pointer.hashes[p]}.jsonl`));
        for (const line of page.split('\n').filter(Boolean)) {
          const e = JSON.parse(line) as { key: string; publicId: string };
          entries.set(e.key, e.publicId);
        }
      }
      for (const a of rig.assets()) {
        const key = rig.keyOf(a);
        assert.equal(entries.get(key), a.publicId, `catalog entry of ${key.slice(0, 80)}`);
        const decoded = decodeEncodedKey(rig.prefix, key);
        if (decoded !== undefined) assert.equal(decoded, a.publicId, 'an _encoded key decodes without the catalog');
      }
    });

    test('a restore brings back every name Cloudinary accepts, exactly, and reports each one it refuses, uploading nothing for it', async () => {
      const target = new CloudinaryFake({ cloudName: 'restored', apiKey: '333333333333333', apiSecret: 'restore-target-secret' });
      await target.start();
      try {
        const r = await rig.cli(['restore', '--from', rig.to, '--json'], rig.env({ CLOUDINARY_URL: target.cloudinaryUrl }));
        assert.equal(r.code, 1, `${r.stderr}\n${r.stdout.slice(0, 3000)}`);
        const report = JSON.parse(r.stdout) as { restored: number; failed: number; failures: Array<{ publicId: string; error: string }> };
        const refused = HOSTILE.filter((h) => h.refused !== undefined);
        const accepted = new Set(HOSTILE.filter((h) => h.refused === undefined).map((h) => h.publicId));
        assert.deepEqual(report.failures.map((f) => f.publicId).sort(), refused.map((h) => h.publicId).sort(), 'exactly the refused names are reported');
        for (const f of report.failures) {
          assert.match(f.error, /Cloudinary refuses this public_id \(.+; docs "Permitted naming conventions"\), and restore renames nothing/, f.publicId);
          assert.match(f.error, /backup copy is intact at .+ "cloudinary-backup get"/);
        }
        assert.equal(report.restored, accepted.size);
        assert.equal(target.stats.requests.upload, accepted.size, 'no upload was sent for a refused name');
        const ids = (f: CloudinaryFake, only?: Set<string>) =>
          f
            .listAssets()
            .filter((a) => a.type !== 'fetch' && (only === undefined || only.has(a.publicId)))
            .map((a) => `${a.resourceType}/${a.type}/${JSON.stringify(a.publicId)} ${f.expectedSha256(a)}`)
            .sort();
        assert.deepEqual(ids(target), ids(rig.fake, accepted), 'every accepted name comes back exactly, byte for byte, and nothing else');
      } finally {
        await target.stop();
      }
    });

    if (kind === 'folder') {
      test('nothing is written outside the backup folder', async () => {
        assert.deepEqual(await readdir(rig.sandbox), ['backup'], 'the folder around the backup holds only the backup');
        const files = await rig.keys();
        const expected = new Set(rig.assets().map((a) => rig.keyOf(a)));
        const stray = files.filter((f) => !expected.has(f) && !/^(_catalog|_reports)\//.test(f));
        assert.deepEqual(stray, [], 'only asset keys, the catalog and the reports');
      });
    }
  });
}
