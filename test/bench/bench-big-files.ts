import type { BenchContext } from './context.ts';
import { nodeBinaries } from './nodes.ts';
import type { BenchResult, Cell, TargetCheck } from './table.ts';
import { marginBelow, mbps, mib, round, seconds } from './table.ts';
import { BUCKET, GiB, MiB, S3_DATA_PARENT, cliEnv, freeBytes, objectsUnder, runBackup, startFake, startS3, withCpu } from './world.ts';

/** Target: peak RSS whatever the file size. */
const RSS_LIMIT_MIB = 256;
/** "Flat": the peak at the biggest file within this much of the peak at the smallest. */
const FLAT_MIB = 32;

/**
 * 3. One video streamed from the fake to s3rver at growing sizes: peak RSS of the CLI must stay
 * flat (a multipart upload holds partSize × queueSize per copy, whatever the file size),
 * under every Node.js major found (the Lambda runs Node.js 24, so lib-storage is checked
 * on newer Node versions too).
 */
export const benchBigFiles = async (ctx: BenchContext): Promise<BenchResult> => {
  const started = Date.now();
  const sizes = ctx.quick ? [20 * MiB, 200 * MiB] : [100 * MiB, GiB, 3 * GiB];
  const nodes = nodeBinaries(ctx.extraNodes);
  const notes = [
    `Node.js: ${nodes.map((n) => n.version).join(', ')}${nodes.length === 1 ? ' only (install another major for the benchmark: see test/bench/README.md)' : ''}.`,
    `Default settings: 5 MiB parts (part-size.ts), 2 parts in flight (queueSize), concurrency 8 (one asset here). s3rver data in ${S3_DATA_PARENT}.`,
  ];
  const fake = await startFake();
  const rows: Record<string, Cell>[] = [];
  const peaks = new Map<string, number[]>();
  try {
    for (const size of sizes) {
      for (const a of fake.listAssets()) fake.deleteAsset(a.publicId, a.resourceType, a.type);
      fake.addAsset({ publicId: 'big/video', resourceType: 'video', bytes: size, version: Math.floor(Date.now() / 1000) - 3600 });
      for (const node of nodes) {
        // s3rver keeps the parts until CompleteMultipartUpload, then writes the object: twice the size.
        if (freeBytes(S3_DATA_PARENT) < 2 * size + GiB) {
          notes.push(`Skipped ${mib(size)} MiB under ${node.version}: not enough free space in ${S3_DATA_PARENT}.`);
          continue;
        }
        const s3 = await startS3();
        try {
          ctx.log(`  ${mib(size)} MiB video, node ${node.version}`);
          fake.resetRateLimit();
          const run = await withCpu(s3, () =>
            runBackup(['--to', `s3://${BUCKET}/cld`, '--resource-types', 'video'], cliEnv(fake, s3), { node: node.bin, timeoutMs: 900_000 }),
          );
          if (run.report.copied !== 1 || run.report.failed !== 0) throw new Error(`copied ${run.report.copied}, failed ${run.report.failed}`);
          const landed = await objectsUnder(s3, 'cld/video/');
          if (landed.count !== 1 || landed.bytes !== size) throw new Error(`${landed.count} objects of ${landed.bytes} bytes landed`);
          const requests = await s3.requestCounts();
          rows.push({
            node: node.version,
            'size MiB': mib(size),
            'wall s': seconds(run.wallMs),
            'MB/s': mbps(size, run.wallMs),
            'peak RSS MiB': mib(run.peakRssBytes),
            'CPU s': run.cpuSeconds === null ? null : round(run.cpuSeconds),
            's3rver CPU s': run.cpu.s3rver === null ? null : round(run.cpu.s3rver),
            'UploadPart': requests.UploadPart ?? 0,
          });
          peaks.set(node.version, [...(peaks.get(node.version) ?? []), run.peakRssBytes]);
          ctx.log(`    ${seconds(run.wallMs)} s, peak RSS ${mib(run.peakRssBytes)} MiB`);
        } finally {
          await s3.stop();
        }
      }
    }
  } finally {
    await fake.stop();
  }
  rows.sort((a, b) => String(a.node).localeCompare(String(b.node), 'en', { numeric: true }) || Number(a['size MiB']) - Number(b['size MiB']));
  const targets: TargetCheck[] = [];
  for (const [version, list] of peaks) {
    const max = Math.max(...list);
    targets.push({
      name: `peak RSS, node ${version}`,
      target: `≤ ${RSS_LIMIT_MIB} MiB at every size`,
      measured: `${mib(max)} MiB at most`,
      met: max <= RSS_LIMIT_MIB * MiB,
      margin: marginBelow(max / MiB, RSS_LIMIT_MIB),
    });
    if (list.length > 1) {
      const growth = (list[list.length - 1] as number) - (list[0] as number);
      targets.push({
        name: `flat, node ${version}`,
        target: `peak at ${mib(sizes[sizes.length - 1] as number)} MiB within ${FLAT_MIB} MiB of the peak at ${mib(sizes[0] as number)} MiB`,
        measured: `${growth >= 0 ? '+' : ''}${mib(growth)} MiB`,
        met: growth <= FLAT_MIB * MiB,
        margin: marginBelow(Math.max(0, growth) / MiB, FLAT_MIB),
      });
    }
  }
  return {
    id: 3,
    title: 'Memory under big files (one video, fake → s3rver)',
    columns: ['node', 'size MiB', 'wall s', 'MB/s', 'peak RSS MiB', 'CPU s', 's3rver CPU s', 'UploadPart'],
    rows,
    targets,
    notes,
    seconds: (Date.now() - started) / 1000,
  };
};
