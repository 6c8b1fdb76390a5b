import type { ResourceType } from '../fakes/cloudinary-fake.ts';
import { S3_CHECKSUMS } from '../fakes/s3rver.ts';
import type { BenchContext } from './context.ts';
import { startHttpIndex } from './http-index.ts';
import { mixedSizes } from './mixed-sizes.ts';
import { nodeBinaries } from './nodes.ts';
import type { NodeBinary } from './nodes.ts';
import type { Measured } from './measure.ts';
import { rcloneCopy, rcloneVersion } from './rclone.ts';
import type { BenchResult, Cell, TargetCheck } from './table.ts';
import { mbps, mib, round, seconds } from './table.ts';
import { BUCKET, GiB, MiB, S3_DATA_PARENT, cliEnv, freeBytes, objectsUnder, runBackup, startFake, startS3, withCpu } from './world.ts';
import type { CpuSplit } from './world.ts';

const KiB = 1024;

interface Case {
  readonly label: string;
  readonly tool: 'ours' | 'rclone';
  /** Copies (ours) or --transfers (rclone) in flight; undefined = rclone's default (4). */
  readonly concurrency: number | undefined;
  /** Node.js binary for ours. @default this process's */
  readonly node?: NodeBinary;
  /** Ours with the other S3 checksum setting than the run's (S3_TEST_CHECKSUMS). */
  readonly otherChecksums?: boolean;
}

/** The S3 checksum setting of a case, for its row. */
const checksumsOf = (c: Case): string => {
  if (c.tool === 'rclone') return 'rclone default';
  const sdkDefault = (S3_CHECKSUMS === 'sdk-default') !== (c.otherChecksums ?? false);
  return sdkDefault ? 'SDK default' : 'WHEN_REQUIRED';
};

/** The CLI environment with the other checksum setting than s3.env's. */
const otherChecksumEnv = (env: Record<string, string | undefined>): Record<string, string | undefined> => {
  const { AWS_REQUEST_CHECKSUM_CALCULATION: _req, AWS_RESPONSE_CHECKSUM_VALIDATION: _res, ...rest } = env;
  return S3_CHECKSUMS === 'sdk-default' ? { ...rest, AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED', AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED' } : rest;
};

/** rclone's default --transfers. */
const RCLONE_DEFAULT_TRANSFERS = 4;

/**
 * 1. A full first backup of mixed sizes from the fake into s3rver: ours at its default
 * concurrency, at rclone's default, and one at a time (the original script's way), against
 * `rclone copy` from an HTTP index of the same bytes at its default and at our default.
 * Every case starts with an empty s3rver and must land every byte.
 */
export const benchThroughput = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = Date.now();
  const spec = ctx.quick
    ? { count: 40, total: 64 * MiB, min: 20 * KiB, max: 8 * MiB }
    : { count: 400, total: GiB, min: 20 * KiB, max: 50 * MiB };
  const sizes = mixedSizes(spec.count, spec.total, spec.min, spec.max);
  const fake = await startFake();
  const version = Math.floor(Date.now() / 1000) - 3600;
  sizes.forEach((bytes, i) => {
    const resourceType: ResourceType = bytes > 10 * MiB ? 'video' : i % 8 === 0 ? 'raw' : 'image';
    const name = `bench-${String(i).padStart(4, '0')}`;
    fake.addAsset({ publicId: resourceType === 'raw' ? `${name}.bin` : name, resourceType, bytes, version });
  });
  const index = await startHttpIndex(fake);
  const rclone = rcloneVersion();
  const notes: string[] = [
    `${spec.count} assets, ${(spec.total / MiB).toLocaleString('en')} MiB in all, ${spec.min / KiB} KiB to ${spec.max / MiB} MiB ` +
      `(median ${Math.round([...sizes].sort((a, b) => a - b)[Math.floor(sizes.length / 2)] as number / KiB)} KiB; ` +
      `${sizes.filter((s) => s > 5 * MiB).length} over 5 MiB go multipart); s3rver data in ${S3_DATA_PARENT}.`,
    'Ours: the CLI as a child process (its wall time includes ~1 s of start-up: tsx, SDKs), catalog and report included. ' +
      'rclone: `rclone copy` from an Apache-style index of the same bytes (HEAD per file, then GET), all defaults but --transfers.',
    `Ours runs on node ${process.version} unless the row names another. MB/s = 10^6 bytes per second of wall time. CPU s: user+system of the copying process; s3rver and the fake (this process) shown apart.`,
  ];
  const cases: Case[] = [
    { label: 'ours, default concurrency', tool: 'ours', concurrency: 8 },
    { label: 'rclone, --transfers 8 (matched)', tool: 'rclone', concurrency: 8 },
    { label: 'ours, --concurrency 4 (matched)', tool: 'ours', concurrency: 4 },
    { label: 'rclone, default transfers', tool: 'rclone', concurrency: undefined },
    { label: 'ours, --concurrency 1 (sequential)', tool: 'ours', concurrency: 1 },
    // The Lambda against AWS keeps the SDK's default checksums (a CRC32 of every body, streamed
    // bodies sent aws-chunked): that CPU is measured too, against the run's own setting.
    { label: `ours, default concurrency, ${S3_CHECKSUMS === 'sdk-default' ? 'WHEN_REQUIRED' : 'SDK default'} checksums`, tool: 'ours', concurrency: 8, otherChecksums: true },
    // Memory with 8 copies in flight under the other Node.js majors (the Lambda runs 24).
    ...nodeBinaries(ctx.extraNodes)
      .slice(1)
      .map((node): Case => ({ label: `ours, default concurrency, node ${node.version}`, tool: 'ours', concurrency: 8, node })),
  ];
  if (!rclone) notes.push('rclone is not on PATH: its rows are skipped (apt-get install rclone).');
  else notes.push(`Peer: ${rclone}.`);
  const rows: Record<string, Cell>[] = [];
  const details: Record<string, unknown> = {};
  const wall = new Map<string, number>();
  try {
    for (const c of cases) {
      if (c.tool === 'rclone' && !rclone) continue;
      if (freeBytes(S3_DATA_PARENT) < spec.total * 2 + GiB) throw new Error(`not enough free space in ${S3_DATA_PARENT} for ${spec.total} bytes`);
      const s3 = await startS3();
      try {
        ctx.log(`  ${c.label}`);
        const prefix = c.tool === 'ours' ? 'ours' : 'rclone';
        let m: Measured & { cpu: CpuSplit };
        if (c.tool === 'ours') {
          fake.resetRateLimit();
          const args = ['--to', `s3://${BUCKET}/${prefix}`, '--concurrency', String(c.concurrency)];
          const env = c.otherChecksums ? otherChecksumEnv(cliEnv(fake, s3)) : cliEnv(fake, s3);
          const run = await withCpu(s3, () => runBackup(args, env, c.node ? { node: c.node.bin } : {}));
          if (run.report.copied !== spec.count || run.report.failed !== 0) {
            throw new Error(`${c.label}: copied ${run.report.copied}, failed ${run.report.failed}`);
          }
          m = run;
        } else {
          m = await withCpu(s3, () => rcloneCopy(index.url, s3, BUCKET, prefix, c.concurrency));
        }
        const requests = await s3.requestCounts();
        // Only the assets: our catalog and report live under _catalog/ and _reports/.
        let landed = { count: 0, bytes: 0 };
        for (const rt of ['image', 'video', 'raw']) {
          const o = await objectsUnder(s3, `${prefix}/${rt}/`);
          landed = { count: landed.count + o.count, bytes: landed.bytes + o.bytes };
        }
        if (landed.count !== spec.count || landed.bytes !== spec.total) {
          throw new Error(`${c.label}: ${landed.count} objects, ${landed.bytes} bytes landed; expected ${spec.count}, ${spec.total}`);
        }
        if (!c.node && !c.otherChecksums) wall.set(`${c.tool}:${c.concurrency ?? RCLONE_DEFAULT_TRANSFERS}`, m.wallMs);
        const total = Object.values(requests).reduce((a, b) => a + b, 0);
        rows.push({
          case: c.label,
          'in flight': c.concurrency ?? RCLONE_DEFAULT_TRANSFERS,
          checksums: checksumsOf(c),
          'wall s': seconds(m.wallMs),
          'MB/s': mbps(spec.total, m.wallMs),
          'peak RSS MiB': mib(m.peakRssBytes),
          'CPU s': m.cpuSeconds === null ? null : round(m.cpuSeconds),
          's3rver CPU s': m.cpu.s3rver === null ? null : round(m.cpu.s3rver),
          'fake CPU s': round(m.cpu.fake),
          'S3 requests': total,
        });
        details[c.label] = { s3Requests: requests, rssSource: m.rssSource };
        ctx.log(`    ${seconds(m.wallMs)} s, ${mbps(spec.total, m.wallMs)} MB/s, peak RSS ${mib(m.peakRssBytes)} MiB`);
      } finally {
        await s3.stop();
      }
    }
  } finally {
    await index.stop();
    await fake.stop();
  }
  const targets: TargetCheck[] = [];
  for (const n of [8, 4]) {
    const ours = wall.get(`ours:${n}`);
    const peer = wall.get(`rclone:${n}`);
    const ok = ours !== undefined && peer !== undefined;
    targets.push({
      name: `time ≤ rclone's at ${n} in flight`,
      target: ok ? `≤ ${seconds(peer)} s` : 'rclone on PATH',
      measured: ok ? `${seconds(ours)} s` : 'not measured',
      met: ok ? ours <= peer : null,
      margin: ok ? (ours <= peer ? `${Math.round((1 - ours / peer) * 100)}% faster` : `${Math.round((ours / peer - 1) * 100)}% slower`) : 'no rclone',
    });
  }
  return {
    id: 1,
    title: 'Full backup throughput (fake → s3rver)',
    columns: ['case', 'in flight', 'checksums', 'wall s', 'MB/s', 'peak RSS MiB', 'CPU s', 's3rver CPU s', 'fake CPU s', 'S3 requests'],
    rows,
    targets,
    notes,
    seconds: (Date.now() - started) / 1000,
    details,
  };
};
