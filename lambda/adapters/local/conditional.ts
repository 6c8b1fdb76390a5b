import { createHash, randomBytes } from 'node:crypto';
import { link, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { PreconditionFailedError } from '../../core/errors.ts';
import type { TaggedObject, WriteCondition } from '../../ports/storage.ts';

/** A folder has no entity tags: the sha256 of the content stands in for one. */
export const tagOf = (body: Buffer): string => `"${createHash('sha256').update(body).digest('hex')}"`;

/** A compare-and-swap mutex older than this was left by a killed process. */
const STALE_MUTEX_MS = 60_000;

/** Reads a file with its tag, or undefined when it does not exist. */
export const readTaggedFile = async (file: string): Promise<TaggedObject | undefined> => {
  try {
    const body = await readFile(file);
    return { body, etag: tagOf(body) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
};

/** Takes `<file>.cas` with O_EXCL; a mutex a killed process left is removed after a minute. */
const takeMutex = async (mutex: string, key: string): Promise<void> => {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await (await open(mutex, 'wx')).close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const s = await stat(mutex).catch(() => undefined);
      if (s && Date.now() - s.mtimeMs > STALE_MUTEX_MS) await rm(mutex, { force: true });
      else throw new PreconditionFailedError(key);
    }
  }
  throw new PreconditionFailedError(key);
};

/**
 * A conditional write in a folder, with the semantics of S3's: `ifNoneMatch: '*'` creates the
 * file only if it does not exist (a hard link of a finished temporary file, which fails with
 * EEXIST atomically); `ifMatch` replaces it only if its content still has that tag, under an
 * O_EXCL mutex so two writers cannot both pass the check. `tmp` is a fresh temporary path.
 */
export const writeConditionalFile = async (file: string, tmp: string, key: string, body: Buffer, condition: WriteCondition): Promise<string> => {
  const fh = await open(tmp, 'wx');
  try {
    await fh.writeFile(body);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    if ('ifNoneMatch' in condition) {
      try {
        await link(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new PreconditionFailedError(key, { cause: err });
        throw err;
      }
      return tagOf(body);
    }
    const mutex = `${file}.cas-${createHash('sha256').update(file).digest('hex').slice(0, 8)}`;
    await takeMutex(mutex, key);
    try {
      const current = await readTaggedFile(file);
      if (current?.etag !== condition.ifMatch) throw new PreconditionFailedError(key);
      await rename(tmp, file);
      return tagOf(body);
    } finally {
      await rm(mutex, { force: true });
    }
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
};

/** A fresh temporary file name in `dir`. */
export const tmpName = (dir: string): string => `${dir}/cas-${randomBytes(6).toString('hex')}.part`;
