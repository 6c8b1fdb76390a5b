/**
 * Runs the Destination contract (destination.contract.ts) against the in-memory destination, the
 * folder destination and the S3 destination on s3rver and on the benchmarks' in-memory S3 server
 * (test/fakes/memory-s3/).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { FoldSafeDestination } from '../../lambda/adapters/local/fold-safe-destination.ts';
import { LocalDestination } from '../../lambda/adapters/local/folder.ts';
import { S3Destination } from '../../lambda/adapters/s3/destination.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { startMemoryS3 } from '../fakes/memory-s3.ts';
import type { MemoryS3Handle } from '../fakes/memory-s3.ts';
import { startS3rver } from '../fakes/s3rver.ts';
import type { S3rverHandle } from '../fakes/s3rver.ts';
import { s3For } from '../helpers.ts';
import { destinationContract } from './destination.contract.ts';

destinationContract('memory', async () => ({ destination: new MemoryDestination(), close: async () => {} }));

// What a folder backup uses on macOS/Windows disks: the fold-safe naming over a store that files
// names case-insensitively and in NFD (modelled in memory; see folder-case-folding.test.ts).
destinationContract('fold-safe naming over a case-insensitive, normalising store', async () => {
  const destination = new FoldSafeDestination(new MemoryDestination({ fold: (k) => k.normalize('NFD').toLowerCase() }));
  await destination.check();
  return { destination, close: async () => {} };
});

destinationContract('folder', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'contract-folder-'));
  return { destination: new LocalDestination(dir), close: () => rm(dir, { recursive: true, force: true }) };
});

const BUCKET = 'contract';
let s3rver: S3rverHandle;
let n = 0;
let conditionalSupport: Promise<string | undefined> | undefined;
let memoryS3: MemoryS3Handle;
before(async () => {
  s3rver = await startS3rver([BUCKET]);
  memoryS3 = await startMemoryS3({ buckets: [BUCKET], maxOldSpaceMiB: 512 });
});
after(async () => {
  await s3rver.stop();
  await memoryS3.stop();
});

/** Whether this s3rver refuses `If-None-Match: *` on an existing key with 412, as S3 does. */
const probeConditional = async (): Promise<string | undefined> => {
  const s3 = s3For(s3rver.endpoint);
  const put = () => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'probe/conditional', Body: 'x', IfNoneMatch: '*' }));
  await put().catch(() => undefined);
  try {
    await put();
    return 's3rver here does not refuse If-None-Match: * with 412 (test/fakes/s3rver-child.cjs lacks conditional writes); S3 does';
  } catch {
    return undefined;
  }
};

destinationContract(
  's3 (s3rver)',
  async () => {
    n += 1;
    const prefix = `t${n}`;
    const inner = new S3Destination(s3For(s3rver.endpoint), BUCKET, { probeKey: `${prefix}/_catalog/write-check`, singlePutMax: 8 * 1024 * 1024 });
    return { destination: prefixed(inner, prefix), close: async () => {} };
  },
  { conditional: () => (conditionalSupport ??= probeConditional()) },
);

// The benchmarks' S3 at a million keys: it must keep the contract S3 keeps (conditional writes
// included, and an abandoned put stores nothing), or the benchmarks would measure another program.
destinationContract('s3 (memory-s3, the benchmarks\' server)', async () => {
  n += 1;
  const prefix = `m${n}`;
  const inner = new S3Destination(s3For(memoryS3.endpoint), BUCKET, { probeKey: `${prefix}/_catalog/write-check`, singlePutMax: 8 * 1024 * 1024 });
  return { destination: prefixed(inner, prefix), close: async () => {} };
});

/** Each test gets its own key space in the one bucket (keys under `t<n>/`). */
const prefixed = (d: S3Destination, p: string): S3Destination =>
  new Proxy(d, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function' || !['put', 'head', 'get', 'delete', 'readTagged', 'writeConditional', 'list'].includes(String(prop))) return v;
      return (first: unknown, ...rest: unknown[]) => {
        if (prop === 'put') {
          const r = first as { key: string };
          return (v as (...a: unknown[]) => unknown).call(target, { ...r, key: `${p}/${r.key}` }, ...rest);
        }
        if (prop === 'list') {
          const it = (v as (k: string) => AsyncIterable<{ key: string }>).call(target, `${p}/${String(first)}`);
          return (async function* () {
            for await (const o of it) yield { ...o, key: o.key.slice(p.length + 1) };
          })();
        }
        return (v as (...a: unknown[]) => unknown).call(target, `${p}/${String(first)}`, ...rest);
      };
    },
  });
