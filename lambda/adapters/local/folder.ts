import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StoredObject } from '../../core/asset.ts';
import { ConfigError, DestinationError, messageOf } from '../../core/errors.ts';
import type { Destination, PutRequest, PutResult, TaggedObject, WriteCondition } from '../../ports/storage.ts';
import { readTaggedFile, tmpName, writeConditionalFile } from './conditional.ts';

/** Swallows an error event; the error is still seen by whoever reads the stream (see put). */
const noop = (): void => undefined;

/** Folder (in the destination root) where partial writes live until they are renamed into place. */
export const TMP_DIR = '.cloudinary-backup-tmp';
/**
 * Age after which a temporary file is a killed run's leftover. A live run writes its files
 * continuously; an hour is far beyond any idle timeout worth setting.
 */
const STALE_TMP_MS = 3600_000;

/**
 * A local folder. Objects are written to a temporary file and renamed into place, so a key
 * holds either the old file or the new one, never a part. Symlinks are never followed:
 * a key whose path crosses a symlink is refused, so nothing is written outside the folder.
 */
export class LocalDestination implements Destination {
  readonly description: string;
  private readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
    this.description = this.root;
  }

  /** The file of a key, after checking it stays inside the root. */
  private fileOf(key: string): string {
    const file = path.resolve(this.root, key);
    if (!file.startsWith(this.root + path.sep)) {
      throw new DestinationError(`key "${key}" would leave the backup folder; refused`);
    }
    return file;
  }

  /**
   * Whether every folder from the root down to `dir` is a real folder (or missing). Reads,
   * listings and deletes check this too, not only writes (found by the fault suite: with a
   * symlink `image -> /elsewhere` in the folder, --prune deleted files under /elsewhere).
   */
  private async linkFree(dir: string): Promise<boolean> {
    const rel = path.relative(this.root, dir);
    let at = this.root;
    for (const part of rel === '' ? [] : rel.split(path.sep)) {
      at = path.join(at, part);
      const s = await lstat(at).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
        throw err;
      });
      if (s === undefined) return true;
      if (!s.isDirectory()) return false;
    }
    return true;
  }

  /** The temporary folder, created when missing; refused when it is a symlink (temp files would land outside). */
  private async tmpDir(): Promise<string> {
    const dir = path.join(this.root, TMP_DIR);
    await mkdir(dir, { recursive: true });
    if (!(await lstat(dir)).isDirectory()) {
      throw new DestinationError(`${dir} is a symbolic link or not a folder; remove it (the backup keeps its temporary files there)`);
    }
    return dir;
  }

  /** Creates the folders of `file` under the root, refusing any that is a symlink. */
  private async ensureParents(file: string): Promise<void> {
    const rel = path.relative(this.root, path.dirname(file));
    let dir = this.root;
    for (const part of rel === '' ? [] : rel.split(path.sep)) {
      dir = path.join(dir, part);
      try {
        const s = await lstat(dir);
        if (s.isSymbolicLink()) throw new DestinationError(`${dir} is a symbolic link; refusing to write through it`);
        if (!s.isDirectory()) throw new DestinationError(`${dir} exists and is not a folder`);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        // The first folder below the root also creates the root: a write may come before check()
        // made it (the run's start takes the lease while the check runs, start-run.ts).
        await mkdir(dir, { recursive: path.dirname(dir) === this.root }).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
        });
      }
    }
  }

  async check(): Promise<void> {
    try {
      const s = await stat(this.root).catch(() => undefined);
      if (s && !s.isDirectory()) throw new Error('it exists and is not a folder');
      const probe = path.join(await this.tmpDir(), `probe-${randomBytes(4).toString('hex')}`);
      const fh = await open(probe, 'wx');
      await fh.close();
      await unlink(probe);
      await this.removeStaleTmp();
    } catch (err) {
      throw new ConfigError(`Cannot write to folder ${this.root}: ${messageOf(err)}. Choose a folder you can write to.`, {
        cause: err,
      });
    }
  }

  /**
   * Removes temporary files a killed run left (SIGKILL, Ctrl-C, power loss), once they are an
   * hour old; otherwise they would pile up unseen (found by the fault suite).
   */
  private async removeStaleTmp(): Promise<void> {
    const dir = path.join(this.root, TMP_DIR);
    for (const name of await readdir(dir)) {
      if (!name.endsWith('.part')) continue;
      const file = path.join(dir, name);
      const s = await lstat(file).catch(() => undefined);
      if (s?.isFile() && Date.now() - s.mtimeMs > STALE_TMP_MS) await rm(file, { force: true });
    }
  }

  async *list(keyPrefix: string): AsyncIterable<StoredObject> {
    // Walk the deepest folder fully named by the prefix, then filter by the full prefix.
    const slash = keyPrefix.lastIndexOf('/');
    const base = slash < 0 ? '' : keyPrefix.slice(0, slash);
    const start = base === '' ? this.root : this.fileOf(base);
    // A symlinked folder is not part of the backup: nothing under it is listed (or pruned).
    if (!(await this.linkFree(start))) return;
    const stack: string[] = [start];
    while (stack.length > 0) {
      const dir = stack.pop() as string;
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
        throw new DestinationError(`listing ${dir} failed: ${messageOf(err)}`, { cause: err });
      }
      for (const e of entries) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) {
          if (dir === this.root && e.name === TMP_DIR) continue;
          stack.push(full);
        } else if (e.isFile()) {
          const key = path.relative(this.root, full).split(path.sep).join('/');
          if (!key.startsWith(keyPrefix)) continue;
          const s = await lstat(full);
          yield { key, size: s.size, lastModified: s.mtime };
        }
      }
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      if (!(await this.linkFree(path.dirname(this.fileOf(key))))) return undefined;
      const s = await lstat(this.fileOf(key));
      return s.isFile() ? { key, size: s.size, lastModified: s.mtime } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw new DestinationError(`reading ${key} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  async put(request: PutRequest): Promise<PutResult> {
    // Until the pipeline below listens, an error of the body (a download breaking off while the
    // folders are made) would have no listener and end the process; the pipeline still sees it.
    if (!Buffer.isBuffer(request.body)) request.body.on('error', noop);
    // No temporary file for a download that fails to open.
    if (request.ready !== undefined) await request.ready;
    const file = this.fileOf(request.key);
    await this.ensureParents(file);
    const tmp = path.join(await this.tmpDir(), `${randomBytes(8).toString('hex')}.part`);
    const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
    const out = fh.createWriteStream();
    try {
      const body = Buffer.isBuffer(request.body) ? Readable.from([request.body]) : request.body;
      await pipeline(body, out, ...(request.signal ? [{ signal: request.signal }] : []));
      const written = (await stat(tmp)).size;
      if (written !== request.length) {
        throw new DestinationError(`wrote ${written} bytes to ${request.key}, expected ${request.length}`);
      }
      const existing = await lstat(file).catch(() => undefined);
      if (existing?.isDirectory()) throw new DestinationError(`${file} is a folder; cannot replace it with a file`);
      await rename(tmp, file);
      return { bytes: written };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async readTagged(key: string): Promise<TaggedObject | undefined> {
    const file = this.fileOf(key);
    try {
      if (!(await this.linkFree(path.dirname(file)))) throw new Error('a folder on its path is a symbolic link or a file');
      return await readTaggedFile(file);
    } catch (err) {
      throw new DestinationError(`reading ${key} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  async writeConditional(key: string, body: Buffer, condition: WriteCondition): Promise<string> {
    const file = this.fileOf(key);
    try {
      await this.ensureParents(file);
      return await writeConditionalFile(file, tmpName(await this.tmpDir()), key, body, condition);
    } catch (err) {
      if ((err as Error).name === 'PreconditionFailedError') throw err;
      throw new DestinationError(`writing ${key} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  async get(key: string): Promise<Readable> {
    const file = this.fileOf(key);
    try {
      if (!(await this.linkFree(path.dirname(file)))) throw Object.assign(new Error('a folder on its path is a symbolic link or a file'), { code: 'ELOOP' });
      const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
      return fh.createReadStream();
    } catch (err) {
      throw new DestinationError(`reading ${key} failed: ${messageOf(err)}`, { cause: err, notFound: (err as NodeJS.ErrnoException).code === 'ENOENT' });
    }
  }

  /** A copy into a temporary file, renamed into place, as put writes (a folder keeps no user metadata). */
  async copy(fromKey: string, toKey: string): Promise<void> {
    const from = this.fileOf(fromKey);
    const to = this.fileOf(toKey);
    const tmp = path.join(await this.tmpDir(), `${randomBytes(8).toString('hex')}.part`);
    try {
      if (!(await this.linkFree(path.dirname(from)))) throw Object.assign(new Error('a folder on its path is a symbolic link or a file'), { code: 'ELOOP' });
      await this.ensureParents(to);
      await copyFile(from, tmp, constants.COPYFILE_EXCL);
      await rename(tmp, to);
    } catch (err) {
      await rm(tmp, { force: true });
      throw new DestinationError(`copying ${fromKey} to ${toKey} failed: ${messageOf(err)}`, { cause: err, notFound: (err as NodeJS.ErrnoException).code === 'ENOENT' });
    }
  }

  async delete(key: string): Promise<void> {
    const file = this.fileOf(key);
    if (!(await this.linkFree(path.dirname(file)))) throw new DestinationError(`deleting ${key}: a folder on its path is a symbolic link or a file; refused`);
    await rm(file, { force: true });
  }
}
