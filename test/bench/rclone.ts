import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { firstLine, runMeasured } from './measure.ts';
import type { Measured } from './measure.ts';

/** `rclone version`'s first line, or undefined when rclone is not on PATH. */
export const rcloneVersion = (): string | undefined => firstLine('rclone', ['version']);

/**
 * `rclone copy` from an HTTP directory index into `bucket/dest` of an s3rver, measured. Both
 * remotes are configured through environment variables (nothing read from or written to the
 * user's rclone.conf); everything else is rclone's default except `--transfers`.
 */
export const rcloneCopy = async (indexUrl: string, s3: S3rverHandle, bucket: string, dest: string, transfers: number | undefined): Promise<Measured> => {
  const home = await mkdtemp(path.join(tmpdir(), 'bench-rclone-'));
  try {
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      RCLONE_CONFIG: path.join(home, 'rclone.conf'),
      RCLONE_CONFIG_SRC_TYPE: 'http',
      RCLONE_CONFIG_SRC_URL: indexUrl,
      RCLONE_CONFIG_DST_TYPE: 's3',
      RCLONE_CONFIG_DST_PROVIDER: 'Other',
      RCLONE_CONFIG_DST_ENDPOINT: s3.endpoint,
      RCLONE_CONFIG_DST_REGION: 'us-east-1',
      RCLONE_CONFIG_DST_ACCESS_KEY_ID: 'S3RVER',
      RCLONE_CONFIG_DST_SECRET_ACCESS_KEY: 'S3RVER',
      RCLONE_CONFIG_DST_FORCE_PATH_STYLE: 'true',
    };
    const args = ['copy', 'src:', `dst:${bucket}/${dest}`, '-q', ...(transfers === undefined ? [] : ['--transfers', String(transfers)])];
    const m = await runMeasured('rclone', args, { env, timeoutMs: 600_000 });
    if (m.code !== 0) throw new Error(`rclone ${args.join(' ')} failed (exit ${m.code}):\n${m.stderr.slice(-4000)}`);
    return m;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
};
