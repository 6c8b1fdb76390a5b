/**
 * Bad input (docs/failures.md, "Bad input": every error says what went wrong and what to
 * do): a CLOUDINARY_URL that is missing, not cloudinary://, without key or secret, or with
 * credentials Cloudinary refuses; destinations that are malformed, unwritable, or a bucket that
 * does not exist. Each ends with exit 2 and one line on stderr that never holds the secret, and
 * nothing is downloaded.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { API_KEY, FaultRig, SECRET, assertNoSecret } from '../fault-rig.ts';
import { runCli } from '../helpers.ts';

let rig: FaultRig;
let s3env: Record<string, string>;
/** A folder this process cannot write to, and how to undo that. */
let unwritable: { dir: string; undo: () => Promise<void> } | undefined;

/**
 * Makes a folder nobody may write to. As root, permissions do not stop writes: use the
 * immutable attribute when the file system has one; otherwise the case is skipped.
 */
const makeUnwritable = async (dir: string): Promise<typeof unwritable> => {
  await mkdir(dir);
  if (process.getuid?.() !== 0) {
    await chmod(dir, 0o555);
    return { dir, undo: () => chmod(dir, 0o755) };
  }
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    return { dir, undo: async () => void execFileSync('chattr', ['-i', dir], { stdio: 'ignore' }) };
  } catch {
    return undefined;
  }
};

before(async () => {
  rig = await FaultRig.start('s3');
  rig.fake.addAsset({ publicId: 'input/one', bytes: 100 });
  s3env = rig.s3rver!.env;
  await writeFile(path.join(rig.sandbox, 'a-file'), 'not a folder');
  unwritable = await makeUnwritable(path.join(rig.sandbox, 'read-only'));
});

after(async () => {
  await unwritable?.undo();
  await rig.stop();
});

/** Runs the CLI and checks: exit 2, one line on stderr naming the problem, no secret, no download. */
const refused = async (args: string[], env: Record<string, string | undefined>, expected: RegExp, secret = SECRET): Promise<void> => {
  const downloads = rig.fake.stats.downloads;
  const r = await runCli(args, env);
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0] ?? '', /^cloudinary-backup: /);
  assert.match(lines[0] ?? '', expected);
  assert.equal(r.stdout, '', 'nothing on stdout');
  assertNoSecret('stderr', r.stderr, secret);
  assert.equal(rig.fake.stats.downloads, downloads, 'nothing downloaded');
};

describe('CLOUDINARY_URL', { concurrency: 2 }, () => {
  // A folder per run: two runs at once on one folder are kept apart by the run lease (exit 75).
  let runs = 0;
  const folder = () => ['backup', '--to', path.join(rig.sandbox, `out-${(runs += 1)}`)];
  const cases: ReadonlyArray<{ name: string; url: () => string | undefined; expected: RegExp }> = [
    { name: 'missing', url: () => undefined, expected: /CLOUDINARY_URL is not set.*cloudinary:\/\/API_KEY:API_SECRET@CLOUD_NAME/ },
    { name: 'empty', url: () => '  ', expected: /CLOUDINARY_URL is not set/ },
    { name: 'not a URL', url: () => `${API_KEY}:${SECRET}`, expected: /CLOUDINARY_URL (is not a valid URL|must start with cloudinary:\/\/)/ },
    { name: 'https:// instead of cloudinary://', url: () => `https://${API_KEY}:${SECRET}@faults`, expected: /must start with cloudinary:\/\/ \(it starts with https:\/\/\)/ },
    { name: 'no API key', url: () => `cloudinary://:${SECRET}@faults`, expected: /has no API key/ },
    { name: 'no API secret', url: () => `cloudinary://${API_KEY}@faults`, expected: /has no API secret/ },
    { name: 'no cloud name', url: () => `cloudinary://${API_KEY}:${SECRET}@`, expected: /CLOUDINARY_URL/ },
    { name: 'a malformed %-escape in the secret', url: () => `cloudinary://${API_KEY}:${SECRET}%zz@faults`, expected: /malformed %-escape/ },
  ];
  for (const c of cases) {
    test(`${c.name}: exit 2, one line, secret not echoed`, () => refused(folder(), { CLOUDINARY_URL: c.url() }, c.expected));
  }

  test('a wrong secret (401): exit 2, one line, neither secret echoed', async () => {
    const wrong = 'wrong-secret-Q8d2k1';
    const url = rig.fake.cloudinaryUrl.replace(SECRET, wrong);
    await refused(folder(), { CLOUDINARY_URL: url }, /refused the credentials \(401.*Check the API key and secret in CLOUDINARY_URL/);
    const r = await runCli(folder(), { CLOUDINARY_URL: url });
    assertNoSecret('stderr', r.stderr, wrong);
  });

  test('a wrong API key (401): exit 2, one line, secret not echoed', () =>
    refused(folder(), { CLOUDINARY_URL: rig.fake.cloudinaryUrl.replace(API_KEY, '111111111111111') }, /refused the credentials \(401/));
});

describe('destinations', { concurrency: 2 }, () => {
  // The destination is checked before the first Admin API call, so not even a listing is spent.
  let listings = 0;
  before(() => {
    listings = rig.fake.stats.listingCalls;
  });
  after(() => assert.equal(rig.fake.stats.listingCalls, listings, 'no listing call'));
  const env = () => ({ CLOUDINARY_URL: rig.fake.cloudinaryUrl, ...s3env });
  const cases: ReadonlyArray<{ name: string; to: () => string; expected: RegExp }> = [
    { name: 'empty --to', to: () => '', expected: /--to is empty/ },
    { name: 's3:// without a bucket', to: () => 's3://', expected: /not a valid S3 location/ },
    { name: 'a bucket name in capitals', to: () => 's3://My_Bucket/x', expected: /not a valid S3 location/ },
    { name: 'an unsupported scheme', to: () => 'ftp://example.com/backup', expected: /only s3:\/\/ URLs and local folders/ },
    { name: 'a bucket that does not exist', to: () => 's3://no-such-bucket/x', expected: /Bucket "no-such-bucket" does not exist/ },
    { name: 'a folder that is a file', to: () => path.join(rig.sandbox, 'a-file'), expected: /Cannot write to folder .*a-file: it exists and is not a folder/ },
    { name: 'a folder under a file', to: () => path.join(rig.sandbox, 'a-file', 'sub'), expected: /Cannot write to folder .*ENOTDIR/ },
  ];
  for (const c of cases) {
    test(`${c.name}: exit 2 before any download`, () => refused(['backup', '--to', c.to()], env(), c.expected));
  }

  test('an unwritable folder: exit 2 before any download', async (t) => {
    if (!unwritable) return t.skip('no way to make a folder unwritable for root here');
    await refused(['backup', '--to', path.join(unwritable.dir, 'backup')], env(), /Cannot write to folder .*read-only.*Choose a folder you can write to/);
  });
});
