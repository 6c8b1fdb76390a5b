/**
 * The rig of the fault suite (test/integration/faults-*.test.ts): the Cloudinary fake, one
 * destination (s3rver or a local folder), the real CLI as a child process, and the checks
 * docs/failures.md promises after every scenario:
 *   1. no object holds bytes that differ from what Cloudinary served for some version of it;
 *   2. no multipart upload is left open by a run that ended normally;
 *   3. nothing that exists in Cloudinary was deleted from the backup;
 *   4. every asset not backed up at its current version is named in the report, with a reason;
 *   5. a rerun (faults cleared) ends with the backup complete.
 * Every CLI run is also checked for the API secret on stdout and stderr.
 */
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { lstat, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { TMP_DIR } from '../lambda/adapters/local/folder.ts';
import { isBackedUpType } from '../lambda/core/asset.ts';
import { historyKey, keyFor } from '../lambda/core/keys.ts';
import { CloudinaryFake } from './fakes/cloudinary-fake.ts';
import type { CloudinaryFakeOptions, FakeAsset } from './fakes/cloudinary-fake.ts';
import { startS3rver } from './fakes/s3rver.ts';
import type { S3rverHandle } from './fakes/s3rver.ts';
import { parseReport, runCli, s3For, s3Sha, sha256OfStream } from './helpers.ts';
import type { CliResult } from './helpers.ts';

/** The API secret of every fault-suite account: it must never appear in any output. */
export const SECRET = 'fault-suite-SECRET-7f3a9c';
export const API_KEY = '987654321098765';
export const BUCKET = 'faults';

/** The parts of a `--json` report the checks read. */
export interface Report {
  listed: number;
  copied: number;
  unchanged: number;
  failed: number;
  pruned: number;
  missingFromSource: number;
  listingComplete: boolean;
  failures: { publicId: string; resourceType: string; type: string; error: string }[];
  [k: string]: unknown;
}

/** One CLI run: what it printed, its exit code and its report (when it printed one). */
export interface Run {
  readonly result: CliResult;
  readonly report: Report | undefined;
  readonly ms: number;
}

/** Every way the secret could be spelled in output, the Basic auth header of the Admin API included. */
export const secretForms = (secret: string): string[] => [
  secret,
  encodeURIComponent(secret),
  Buffer.from(secret).toString('base64'),
  Buffer.from(`${API_KEY}:${secret}`).toString('base64'),
];

/** Fails when any text holds the secret. */
export const assertNoSecret = (what: string, text: string, secret = SECRET): void => {
  for (const form of secretForms(secret)) assert.ok(!text.includes(form), `${what} contains the API secret`);
};

const sha256OfFile = (file: string): Promise<string> => sha256OfStream(createReadStream(file));

export class FaultRig {
  /** Acceptable sha256 values per key: every version of the asset served so far. */
  private readonly served = new Map<string, Set<string>>();
  /** Multipart uploads a killed process left open (not the fault of the runs checked later). */
  private readonly orphans = new Set<string>();

  private constructor(
    readonly kind: 's3' | 'folder',
    readonly fake: CloudinaryFake,
    readonly s3rver: S3rverHandle | undefined,
    readonly s3: S3Client | undefined,
    /** The local destination folder (kind 'folder'), inside `sandbox`. */
    readonly folder: string,
    /** A folder holding only `folder`: nothing may appear next to it. */
    readonly sandbox: string,
  ) {}

  /** Starts the fake (with the suite's key and secret) and the destination. */
  static async start(kind: 's3' | 'folder', fakeOptions: CloudinaryFakeOptions = {}): Promise<FaultRig> {
    const fake = new CloudinaryFake({ cloudName: 'faults', apiKey: API_KEY, apiSecret: SECRET, ...fakeOptions });
    await fake.start();
    const sandbox = await mkdtemp(path.join(tmpdir(), 'cb-faults-'));
    const folder = path.join(sandbox, 'backup');
    if (kind === 'folder') return new FaultRig(kind, fake, undefined, undefined, folder, sandbox);
    const s3rver = await startS3rver([BUCKET]);
    return new FaultRig(kind, fake, s3rver, s3For(s3rver.endpoint), folder, sandbox);
  }

  async stop(): Promise<void> {
    await this.fake.stop();
    await this.s3rver?.stop();
    await rm(this.sandbox, { recursive: true, force: true });
  }

  get prefix(): string {
    return this.kind === 's3' ? 'cld' : '';
  }

  /** The --to argument. */
  get to(): string {
    return this.kind === 's3' ? `s3://${BUCKET}/${this.prefix}` : this.folder;
  }

  /** The environment of a CLI run. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    // Small multipart threshold: the fault tests' 5-12 MiB assets go multipart, as bigger ones do.
    return { CLOUDINARY_URL: this.fake.cloudinaryUrl, CLOUDINARY_BACKUP_MULTIPART_THRESHOLD: '5MiB', ...(this.s3rver?.env ?? {}), ...extra };
  }

  /** A key under the prefix, e.g. root('_catalog/current.json'). */
  root(rel: string): string {
    return this.prefix ? `${this.prefix}/${rel}` : rel;
  }

  /** The key of an asset in this destination (with the prefix). */
  keyOf(asset: Pick<FakeAsset, 'publicId' | 'resourceType' | 'type' | 'format'>): string {
    return keyFor(this.prefix, asset);
  }

  /** sha256 of the object at a key, or undefined when there is none. */
  async sha(key: string): Promise<string | undefined> {
    if (this.s3) return s3Sha(this.s3, BUCKET, key);
    const file = path.join(this.folder, key);
    const s = await lstat(file).catch(() => undefined);
    return s?.isFile() ? sha256OfFile(file) : undefined;
  }

  /** Every key in the destination (S3: the bucket; folder: every file, temp files included). */
  async keys(): Promise<string[]> {
    const out: string[] = [];
    if (this.s3) {
      for await (const page of paginateListObjectsV2({ client: this.s3 }, { Bucket: BUCKET })) {
        for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key);
      }
      return out.sort();
    }
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else out.push(path.relative(this.folder, full).split(path.sep).join('/'));
      }
    };
    await walk(this.folder);
    return out.sort();
  }

  /** The text of an object (reports, catalog pages). */
  async text(key: string): Promise<string> {
    if (this.s3) {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return (await (r.Body as Readable & { transformToString(): Promise<string> }).transformToString()) as string;
    }
    return readFile(path.join(this.folder, key), 'utf8');
  }

  /** The assets the backup is for: every backed-up delivery type in the fake now. */
  assets(): FakeAsset[] {
    return this.fake.listAssets().filter((a) => isBackedUpType(a));
  }

  /** Records the bytes the fake serves now for every asset, as acceptable for its key. */
  remember(): void {
    for (const a of this.assets()) {
      const key = this.keyOf(a);
      const set = this.served.get(key) ?? new Set<string>();
      set.add(this.fake.expectedSha256(a));
      this.served.set(key, set);
    }
  }

  /** sha256 of every asset key that holds an object now. */
  async present(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const a of this.assets()) {
      const key = this.keyOf(a);
      const sha = await this.sha(key);
      if (sha !== undefined) out.set(key, sha);
    }
    return out;
  }

  /** Runs the CLI; never lets the secret through stdout or stderr. */
  async cli(args: string[], env: Record<string, string> = this.env()): Promise<CliResult> {
    const t0 = Date.now();
    const r = await runCli(args, env);
    if (process.env.FAULTS_TIMING) process.stderr.write(`[${Date.now() - t0} ms] ${args.slice(3).join(' ')} -> exit ${r.code}\n`);
    assertNoSecret(`stdout of ${args.join(' ')}`, r.stdout);
    assertNoSecret(`stderr of ${args.join(' ')}`, r.stderr);
    return r;
  }

  /**
   * A `backup --json` run followed by checks 1-4. `noReport: true` says the run is expected to
   * print no report (a run refused before it starts); otherwise a missing report fails.
   */
  async backup(extra: string[] = [], opts: { env?: Record<string, string>; noReport?: boolean } = {}): Promise<Run> {
    this.remember();
    const before = await this.present();
    const started = Date.now();
    const result = await this.cli(['backup', '--to', this.to, '--json', ...extra], opts.env ?? this.env());
    const ms = Date.now() - started;
    const report = result.stdout.trim() === '' ? undefined : (parseReport(result) as unknown as Report);
    await this.check(before, report, result, { noReport: opts.noReport ?? false });
    return { result, report, ms };
  }

  /**
   * Checks 1-4 after a run that started with `before` in the backup. `endedNormally: false` (a
   * killed run) skips the open-upload check and expects no report; `noReport` expects none too.
   * Any other run must have printed a report, and check 4 always runs: with a complete listing
   * every asset is backed up or named; with an incomplete one, at most the assets the run did
   * not list (all assets minus `listed`) may be neither.
   */
  async check(
    before: Map<string, string>,
    report: Report | undefined,
    result: CliResult,
    opts: { endedNormally?: boolean; noReport?: boolean } = {},
  ): Promise<void> {
    const endedNormally = opts.endedNormally ?? true;
    const after = await this.present();
    assert.deepEqual(await this.foreignObjects(), [], 'objects whose bytes Cloudinary never served for their key');
    const lost = [...before.keys()].filter((k) => !after.has(k));
    assert.deepEqual(lost, [], 'backups of assets that exist in Cloudinary were deleted');
    if (this.s3rver) {
      const open = (await this.s3rver.openUploads(BUCKET)).filter((u) => !this.orphans.has(u));
      if (endedNormally) assert.deepEqual(open, [], 'a multipart upload was left open');
      else for (const u of open) this.orphans.add(u);
    }
    if (!endedNormally || opts.noReport) {
      assert.equal(report, undefined, 'a report was printed by a run expected to print none');
      return;
    }
    assert.ok(report, `the run printed no report (exit ${result.code}): ${result.stderr}`);
    assert.equal(report.failures.length, report.failed, 'every failure is listed');
    for (const f of report.failures) assert.ok(f.error.trim().length > 0, `failure of ${f.publicId} has a reason`);
    const named = new Set(report.failures.map((f) => `${f.resourceType}/${f.type}/${f.publicId}`));
    const unnamed = this.assets()
      .filter((a) => after.get(this.keyOf(a)) !== this.fake.expectedSha256(a))
      .map((a) => `${a.resourceType}/${a.type}/${a.publicId}`)
      .filter((id) => !named.has(id));
    if (report.listingComplete) assert.deepEqual(unnamed, [], `assets neither backed up nor reported (exit ${result.code}): ${result.stderr}`);
    else {
      const unlisted = this.assets().length - report.listed;
      assert.ok(unnamed.length <= unlisted, `${unnamed.length} assets neither backed up nor reported, but only ${unlisted} were not listed: ${unnamed.join(', ')}`);
    }
    if (report.failed > 0) assert.equal(result.code, 1, 'exit 1 when an asset failed');
  }

  /**
   * Check 1 over every object in the destination, not only the current assets' keys: each must
   * hold bytes Cloudinary served for its key (the tool's own files, catalog, reports and the
   * folder's temporary files, are left out); a retired original under `_history/` bytes served
   * for the asset key it was retired from (docs/history.md: the key's hash names its folder).
   */
  async foreignObjects(): Promise<string[]> {
    const tool = [this.root('_catalog/'), this.root('_reports/'), `${TMP_DIR}/`];
    const history = this.root('_history/');
    const retiredFrom = new Map([...this.served.keys()].map((k) => [historyKey(this.prefix, k, 0).split('/').slice(-2, -1)[0] as string, k]));
    const foreign: string[] = [];
    for (const key of await this.keys()) {
      if (tool.some((p) => key.startsWith(p))) continue;
      // A symbolic link a test planted in the folder is not an object (the symlink tests check them).
      if (!this.s3 && (await lstat(path.join(this.folder, key))).isSymbolicLink()) continue;
      const sha = await this.sha(key);
      const of = key.startsWith(history) ? retiredFrom.get(key.split('/').slice(-2, -1)[0] as string) : key;
      if (sha === undefined || of === undefined || !this.served.get(of)?.has(sha)) foreign.push(key);
    }
    return foreign;
  }

  /** Check 5: with every fault cleared, a rerun copies what is left and the backup is complete. */
  async rerunComplete(): Promise<Run> {
    this.fake.clearFaults();
    await this.s3rver?.clearFaults();
    const run = await this.backup();
    assert.equal(run.result.code, 0, `rerun: ${run.result.stderr}`);
    assert.ok(run.report, 'rerun printed a report');
    assert.equal(run.report.failed, 0);
    assert.equal(run.report.listingComplete, true);
    const incomplete: string[] = [];
    const present = await this.present();
    for (const a of this.assets()) if (present.get(this.keyOf(a)) !== this.fake.expectedSha256(a)) incomplete.push(a.publicId);
    assert.deepEqual(incomplete, [], 'assets not backed up after the rerun');
    return run;
  }
}

/** Waits until `cond` holds (polling), failing after `ms`. */
export const until = async (cond: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition'): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};
