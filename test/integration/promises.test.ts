/**
 * README promises that had no test able to fail: `--prune` deletes, `--dry-run` writes nothing,
 * `--diff head` plans as `--diff list` does, bad options exit 2 with one line, a delivery that
 * never answers, a Content-Length that is not the listed size, an S3 error on a streamed single
 * PUT, and the part size of an object too big for 5 MiB parts reaching the upload.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { choosePartSize } from '../../lambda/core/part-size.ts';
import type { FakeAsset } from '../fakes/cloudinary-fake.ts';
import { BUCKET, FaultRig, until } from '../fault-rig.ts';
import { runCli } from '../helpers.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Every object in the destination with its sha256 (catalog and reports included). */
const snapshot = async (rig: FaultRig): Promise<Map<string, string | undefined>> => {
  const out = new Map<string, string | undefined>();
  for (const key of await rig.keys()) out.set(key, await rig.sha(key));
  return out;
};

/** The `copy ...` lines of a dry run's plan, sorted. */
const copyLines = (stdout: string): string[] =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('copy '))
    .sort();

describe('promises of the README (s3rver)', () => {
  let rig: FaultRig;
  let gone: FakeAsset;
  let resized: FakeAsset;

  before(async () => {
    rig = await FaultRig.start('s3');
    for (let i = 0; i < 8; i += 1) rig.fake.addAsset({ publicId: `p/${i}`, bytes: 20_000 + i, version: 1_700_000_000 + i });
    gone = rig.fake.addAsset({ publicId: 'p/deleted', bytes: 9_000, version: 1_700_000_000 });
    resized = rig.fake.getAsset('p/3')!;
    const first = await rig.backup();
    assert.equal(first.result.code, 0, first.result.stderr);
    // Work for the next run: one asset deleted, one added, one resized, one replaced at the same size.
    rig.fake.deleteAsset(gone.publicId);
    rig.fake.addAsset({ publicId: 'p/new', bytes: 12_345, version: 1_700_000_100 });
    resized = rig.fake.replaceAsset(resized.publicId, resized.resourceType, resized.type, { bytes: resized.bytes + 10, version: 1_700_000_101 });
    const same = rig.fake.getAsset('p/5')!;
    // A version is the upload time: a replacement made after the backup has a later one.
    rig.fake.replaceAsset(same.publicId, same.resourceType, same.type, { bytes: same.bytes, version: Math.floor(Date.now() / 1000) + 2 });
  });

  after(() => rig.stop());

  test('--dry-run (with --prune) writes nothing at all: no object, catalog page or report; only reads reach S3', async () => {
    const before = await snapshot(rig);
    await rig.s3rver!.requestCounts({ reset: true });
    const r = await rig.cli(['backup', '--to', rig.to, '--dry-run', '--prune', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as { plannedCopies: number };
    assert.equal(plan.plannedCopies, 3, 'the dry run had something to do');
    assert.deepEqual(await snapshot(rig), before, 'the destination is exactly as it was');
    const counts = await rig.s3rver!.requestCounts();
    const writes = Object.keys(counts).filter((op) => !['ListObjectsV2', 'HeadObject', 'GetObject', 'HeadBucket', 'ListMultipartUploads'].includes(op));
    assert.deepEqual(writes, [], `a dry run sent ${JSON.stringify(counts)}`);
  });

  test('--diff head plans exactly what --diff list plans', async () => {
    const list = await rig.cli(['backup', '--to', rig.to, '--dry-run', '--diff', 'list']);
    const head = await rig.cli(['backup', '--to', rig.to, '--dry-run', '--diff', 'head']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(head.code, 0, head.stderr);
    assert.equal(copyLines(list.stdout).length, 3, list.stdout);
    assert.deepEqual(copyLines(head.stdout), copyLines(list.stdout));
    const jl = JSON.parse((await rig.cli(['backup', '--to', rig.to, '--dry-run', '--diff', 'list', '--json'])).stdout) as Record<string, unknown>;
    const jh = JSON.parse((await rig.cli(['backup', '--to', rig.to, '--dry-run', '--diff', 'head', '--json'])).stdout) as Record<string, unknown>;
    for (const field of ['listed', 'unchanged', 'plannedCopies', 'plannedBytes', 'plannedS3Requests', 'missingFromSource']) {
      assert.equal(jh[field], jl[field], `${field}: head ${String(jh[field])}, list ${String(jl[field])}`);
    }
  });

  test('--prune after a complete listing deletes the backup of the deleted asset, and only that', async () => {
    const goneKey = rig.keyOf(gone);
    assert.ok(await rig.sha(goneKey), 'the deleted asset is still in the backup before pruning');
    const run = await rig.backup(['--prune']);
    assert.equal(run.result.code, 0, run.result.stderr);
    assert.equal(run.report?.listingComplete, true);
    assert.equal(run.report?.pruned, 1);
    assert.equal(await rig.sha(goneKey), undefined, 'pruned');
    for (const a of rig.assets()) assert.equal(await rig.sha(rig.keyOf(a)), rig.fake.expectedSha256(a), `${a.publicId} kept`);
    assert.equal(await rig.sha(rig.keyOf(resized)), rig.fake.expectedSha256(resized));
  });
});

describe('bad options: exit 2, one line, no stack', () => {
  const cases: { args: string[]; pattern: RegExp }[] = [
    { args: ['backup', '--to', '/tmp/x', '--bogus'], pattern: /unknown option '--bogus'/ },
    { args: ['backup', '--to', '/tmp/x', '--concurrency', 'lots'], pattern: /--concurrency/ },
    { args: ['backup', '--to', '/tmp/x', '--concurrency', '0'], pattern: /--concurrency/ },
    { args: ['backup', '--to', '/tmp/x', '--max-bytes', 'plenty'], pattern: /--max-bytes/ },
    { args: ['backup', '--to', '/tmp/x', '--idle-timeout', '-1'], pattern: /--idle-timeout/ },
    { args: ['backup', '--to', '/tmp/x', '--diff', 'sideways'], pattern: /--diff/ },
    { args: ['backup', '--to', '/tmp/x', '--multipart-threshold', '1KiB'], pattern: /--multipart-threshold/ },
    { args: ['backup'], pattern: /--to/ },
    { args: ['verify', '--from', '/tmp/x', '--concurrency', 'x'], pattern: /--concurrency/ },
    { args: ['frobnicate'], pattern: /unknown command/ },
  ];
  for (const c of cases) {
    test(c.args.slice(1).join(' ') || c.args[0]!, async () => {
      const r = await runCli(c.args, { CLOUDINARY_URL: 'cloudinary://k:s@c' }, 30_000);
      assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^\(run with --help for usage\)$/.test(l.trim()));
      assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
      assert.match(lines[0]!, c.pattern);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout, '');
    });
  }
});

describe('delivery and destination faults (s3rver)', () => {
  let rig: FaultRig;

  before(async () => {
    rig = await FaultRig.start('s3');
  });

  after(() => rig.stop());

  test('a delivery server that never sends headers is abandoned after --idle-timeout and reported; the rest is copied', async () => {
    // A proxy in front of the fake that holds the silent asset's download open without a word.
    const silentId = 'silent/never';
    const held: http.ServerResponse[] = [];
    const target = /upload_prefix=(.+)$/.exec(rig.fake.cloudinaryUrl)![1]!;
    const proxy = http.createServer((req, res) => {
      // The download of the silent asset (signed download API or delivery URL), not the listing.
      if (req.url?.includes('never') && !req.url.includes('/resources/')) {
        held.push(res);
        return;
      }
      const up = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      // Token access control: downloaded through the signed download API on the API host (the proxy).
      const silent = rig.fake.addAsset({ publicId: silentId, bytes: 4000, accessControl: [{ access_type: 'token' }] });
      // The same: with the proxy as API host, the fake's own delivery host is not a Cloudinary host.
      const ok = rig.fake.addAsset({ publicId: 'silent/fine', bytes: 4000, accessControl: [{ access_type: 'token' }] });
      const url = rig.fake.cloudinaryUrl.replace(target, `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`);
      assert.notEqual(url, rig.fake.cloudinaryUrl, 'the CLI talks to the proxy');
      const started = Date.now();
      const run = await rig.backup(['--idle-timeout', '1'], { env: rig.env({ CLOUDINARY_URL: url }) });
      assert.ok(held.length >= 1, 'the silent download was requested');
      assert.equal(run.result.code, 1, run.result.stderr);
      assert.match(run.report!.failures.find((f) => f.publicId === silentId)?.error ?? '', /no response for 1000 ms/);
      assert.equal(await rig.sha(rig.keyOf(silent)), undefined);
      assert.equal(await rig.sha(rig.keyOf(ok)), rig.fake.expectedSha256(ok));
      // Three tries of 1 s each (and the pauses between them), not three of the default 60 s.
      assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
    } finally {
      for (const res of held) res.destroy();
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
      rig.fake.deleteAsset(silentId, 'image', 'private');
      rig.fake.deleteAsset('silent/fine', 'image', 'private');
    }
  });

  test('a Content-Length different from the listed bytes is refused for that asset (longer or shorter), nothing stored', async () => {
    const longer = rig.fake.addAsset({ publicId: 'len/longer', bytes: 5000, content: Buffer.alloc(6000, 1) });
    const shorter = rig.fake.addAsset({ publicId: 'len/shorter', bytes: 5000, content: Buffer.alloc(4000, 2) });
    const run = await rig.cli(['backup', '--to', rig.to, '--json']);
    assert.equal(run.code, 1, run.stderr);
    const report = JSON.parse(run.stdout) as { failures: { publicId: string; error: string }[] };
    for (const [a, served] of [[longer, 6000], [shorter, 4000]] as const) {
      // Refused on the headers, before a byte is read, with the reason.
      assert.match(report.failures.find((f) => f.publicId === a.publicId)?.error ?? `${a.publicId} not reported`, new RegExp(`served ${served} bytes but listed 5000`));
      assert.equal(await rig.sha(rig.keyOf(a)), undefined, `${a.publicId} not stored`);
    }
    rig.fake.deleteAsset(longer.publicId);
    rig.fake.deleteAsset(shorter.publicId);
  });

  test('an S3 error on a streamed single PutObject: once is retried with a fresh download; always is reported with the old object kept', async () => {
    const once = rig.fake.addAsset({ publicId: 'put/once', bytes: 300_000, version: 1_700_000_000 });
    const always = rig.fake.addAsset({ publicId: 'put/always', bytes: 300_000, version: 1_700_000_000 });
    const first = await rig.backup();
    assert.equal(first.result.code, 0, first.result.stderr);
    const oldAlways = await rig.sha(rig.keyOf(always));
    const newOnce = rig.fake.replaceAsset(once.publicId, once.resourceType, once.type, { bytes: once.bytes + 1, version: 1_700_000_001 });
    const newAlways = rig.fake.replaceAsset(always.publicId, always.resourceType, always.type, { bytes: always.bytes + 1, version: 1_700_000_001 });
    await rig.s3rver!.injectFaults([
      { op: 'PutObject', key: 'put/once', times: 1 },
      { op: 'PutObject', key: 'put/always' },
    ]);
    const downloadsBefore = rig.fake.stats.downloads;
    const run = await rig.backup();
    const injected = await rig.s3rver!.clearFaults();
    assert.equal(run.result.code, 1, run.result.stderr);
    assert.ok((injected.PutObject ?? 0) >= 2, `PutObject errors injected: ${JSON.stringify(injected)}`);
    assert.equal(await rig.sha(rig.keyOf(newOnce)), rig.fake.expectedSha256(newOnce), 'retried and copied');
    assert.ok(rig.fake.stats.downloads - downloadsBefore >= 3, 'the retry downloaded afresh');
    assert.match(run.report!.failures.find((f) => f.publicId === newAlways.publicId)?.error ?? '', /put\/always.*Injected PutObject failure/);
    assert.equal(await rig.sha(rig.keyOf(newAlways)), oldAlways, 'the old object is kept');
    await rig.rerunComplete();
  });

  test('an object too big for 5 MiB parts (60 GiB) is uploaded in the parts choosePartSize picks: the first UploadPart has that size', async () => {
    const size = 60 * GiB;
    const expected = choosePartSize(size);
    assert.equal(expected, 7 * MiB, '60 GiB / 10,000 parts needs 7 MiB parts');
    const huge = rig.fake.addAsset({ publicId: 'huge/video', resourceType: 'video', bytes: size });
    const uploads = path.join(rig.s3rver!.directory, BUCKET, '._S3rver_uploads');
    let firstPart = -1;
    const r = await runCli(['backup', '--to', rig.to, '--json'], rig.env(), 120_000, (child) => {
      void until(
        async () => {
          for (const id of await readdir(uploads).catch(() => [])) {
            const st = await stat(path.join(uploads, id, '1')).catch(() => undefined);
            if (st) firstPart = st.size;
          }
          return firstPart >= 0;
        },
        90_000,
        'the first part of the 60 GiB upload',
      ).finally(() => child.kill('SIGINT'));
    });
    assert.equal(firstPart, expected, `first UploadPart was ${firstPart} bytes`);
    assert.equal(r.code, 130, r.stderr);
    assert.ok(rig.fake.stats.downloadBytes < 1 * GiB, 'stopped long before moving the object');
    assert.deepEqual(await rig.s3rver!.openUploads(BUCKET), [], 'the upload was aborted');
    rig.fake.deleteAsset(huge.publicId, huge.resourceType);
  });
});
