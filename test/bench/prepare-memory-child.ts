import { createHash } from 'node:crypto';
import type { StoredObject } from '../../lambda/core/asset.ts';
import { KeyIndex } from '../../lambda/backup/key-index.ts';
import type { PreviousRecord } from '../../lambda/backup/key-index.ts';

// Child of bench-prepare-memory.ts (run with --expose-gc): builds the engine's prepare() tables
// for N assets in one layout and prints the bytes they hold (heap + array buffers, after GC).
// 'maps' is the layout of commit 8ab8645 (engine.ts prepare(): a Map of records for the
// previous catalog, a Map of StoredObject for the inventory), rebuilt here line for line;
// 'key-index' is lambda/backup/key-index.ts. Inputs are made as the real ones arrive: every key
// and sha256 a fresh string (JSON.parse of the catalog, the XML of ListObjectsV2), a Date each.
const [layout, nArg] = process.argv.slice(2);
const n = Number(nArg);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc || !(n > 0) || (layout !== 'maps' && layout !== 'key-index')) throw new Error('usage: node --expose-gc --import tsx prepare-memory-child.ts maps|key-index N');

const TYPES = ['image', 'image', 'image', 'image', 'image', 'image', 'image', 'video', 'video', 'raw'] as const;
const keyOf = (i: number): string => {
  const rt = TYPES[i % 10] as string;
  return `cld/${rt}/upload/f${String(Math.floor(i / 1000)).padStart(3, '0')}/a${String(i).padStart(6, '0')}${rt === 'raw' ? '.bin' : rt === 'video' ? '.mp4' : '.jpg'}`;
};
const entry = (i: number): PreviousRecord & { key: string } => ({
  key: keyOf(i),
  version: 1_700_000_000 + i,
  current: true,
  resourceType: TYPES[i % 10] as string,
  sha256: createHash('sha256').update(String(i)).digest('hex'),
});
const stored = (i: number): StoredObject => ({ key: keyOf(i), size: 100 + ((i * 7919) % 1900), lastModified: new Date(1_700_000_000_000 + i) });

const used = (): number => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

const before = used();
let keep: unknown;
if (layout === 'maps') {
  const previous = new Map<string, PreviousRecord>();
  for (let i = 0; i < n; i += 1) {
    const e = entry(i);
    previous.set(e.key, { version: e.version, current: e.current, resourceType: e.resourceType, ...(e.sha256 ? { sha256: e.sha256 } : {}) });
  }
  const inventory = new Map<string, StoredObject>();
  for (let i = 0; i < n; i += 1) {
    const o = stored(i);
    inventory.set(o.key, o);
  }
  keep = [previous, inventory];
} else {
  const index = new KeyIndex();
  for (let i = 0; i < n; i += 1) {
    const e = entry(i);
    index.setPrevious(e.key, { version: e.version, current: e.current, resourceType: e.resourceType, ...(e.sha256 ? { sha256: e.sha256 } : {}) });
  }
  for (let i = 0; i < n; i += 1) index.setStored(stored(i));
  keep = index;
}
const after = used();
process.stdout.write(`${JSON.stringify({ layout, n, bytes: after - before, held: keep !== undefined })}\n`);
