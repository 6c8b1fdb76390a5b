import { createHash, randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { caseFold } from '../../core/local-name.ts';
import type { Destination } from '../../ports/storage.ts';
import type { CatalogEntry } from '../../store/catalog.ts';

/** Why one asset was not copied out. */
export class CopyOutError extends Error {
  override readonly name = 'CopyOutError';
}

/**
 * Refuses a local name that exists, or that differs only in case (or Unicode normalization)
 * from one that exists: on macOS and Windows both are the same file, and on Linux two names
 * that a later copy to a laptop would merge.
 */
export const checkFree = async (file: string): Promise<void> => {
  const dir = path.dirname(file);
  const base = path.basename(file);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const n of names) {
    if (n === base) throw new CopyOutError(`${file} exists; nothing is overwritten: move it away or choose another --to.`);
    if (caseFold(n) === caseFold(base)) {
      throw new CopyOutError(`${file}: ${path.join(dir, n)} differs only in case (the same file on macOS and Windows); move it away or choose another --to.`);
    }
  }
};

/** What one copied asset was checked against. */
export interface CopiedOut {
  readonly bytes: number;
  readonly sha256: string;
  /** False when the catalog has no checksum for it (a stale entry: an older version). */
  readonly checked: boolean;
}

/**
 * Copies one backed-up object to `file`: streamed into a temporary name beside it, checked
 * against the catalog's size and sha256, then linked into place. link() fails when the name
 * exists, so a file that appears meanwhile is never overwritten, and a failed check leaves
 * nothing behind.
 */
export const copyOut = async (destination: Destination, entry: CatalogEntry, file: string): Promise<CopiedOut> => {
  await checkFree(file);
  await mkdir(path.dirname(file), { recursive: true });
  const temp = path.join(path.dirname(file), `.${path.basename(file).slice(0, 100)}.${randomBytes(4).toString('hex')}.partial`);
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(await destination.get(entry.key), tap, createWriteStream(temp, { flags: 'wx' }));
    const sha256 = hash.digest('hex');
    const checked = entry.state !== 'stale' && entry.sha256 !== undefined;
    if (entry.state !== 'stale' && bytes !== entry.bytes) {
      throw new CopyOutError(`${entry.key}: read ${bytes} bytes, the catalog says ${entry.bytes}; the backup copy is damaged (run verify --deep).`);
    }
    if (checked && sha256 !== entry.sha256) {
      throw new CopyOutError(`${entry.key}: sha256 differs from the catalog's; the backup copy is damaged (run verify --deep).`);
    }
    try {
      await link(temp, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new CopyOutError(`${file} exists; nothing is overwritten: move it away or choose another --to.`);
      // File systems without hard links (FAT, some network shares): an exclusive copy.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err;
      await copyFile(temp, file, constants.COPYFILE_EXCL);
    }
    return { bytes, sha256, checked };
  } finally {
    await unlink(temp).catch(() => undefined);
  }
};
