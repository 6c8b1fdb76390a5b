import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { ROOT } from '../helpers.ts';
import type { HttpIndex } from './http-index.ts';
import { runMeasured } from './measure.ts';
import type { Measured } from './measure.ts';

const COPIER = path.join(ROOT, 'test', 'bench', 'limit-copier.mjs');

/**
 * The limit of benchmark 1: `limit-copier.mjs` — one plain GET from the index piped
 * into one PUT to s3rver per file (signed over its headers, UNSIGNED-PAYLOAD), `concurrency` at a time — measured like our CLI.
 * The file list is handed over (no listing cost), so this is below what any real copier spends.
 */
export const limitCopy = async (
  index: HttpIndex,
  s3: S3rverHandle,
  bucket: string,
  dest: string,
  concurrency: number,
  extra: { readonly nodeArgs?: readonly string[]; readonly env?: Record<string, string> } = {},
): Promise<Measured> => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-limit-'));
  try {
    const manifest = path.join(dir, 'manifest.json');
    await writeFile(manifest, JSON.stringify({
        source: index.url,
        target: `${s3.endpoint}/${bucket}/${dest}/`,
        credentials: { accessKeyId: s3.env.AWS_ACCESS_KEY_ID, secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY, region: s3.env.AWS_REGION ?? 'us-east-1' },
        concurrency,
        files: index.files(),
      }));
    const m = await runMeasured(process.execPath, [...(extra.nodeArgs ?? []), COPIER, manifest], { env: { PATH: process.env.PATH, ...extra.env }, timeoutMs: 600_000 });
    if (m.code !== 0) throw new Error(`limit copier failed (exit ${m.code}):\n${m.stderr.slice(-4000)}`);
    return m;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};
