import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StoredObject } from '../core/asset.ts';
import { ConfigError, DestinationError, messageOf } from '../core/errors.ts';
import type { Destination, PutRequest, PutResult } from '../ports.ts';

/** Folder (in the destination root) where partial writes live until they are renamed into place. */
export const TMP_DIR = '.cloudinary-backup-tmp';

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
        await mkdir(dir).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
        });
      }
    }
  }

  async check(): Promise<void> {
    try {
      const s = await stat(this.root).catch(() => undefined);
      if (s && !s.isDirectory()) throw new Error('it exists and is not a folder');
      await mkdir(path.join(this.root, TMP_DIR), { recursive: true });
      const probe = path.join(this.root, TMP_DIR, `probe-${randomBytes(4).toString('hex')}`);
      const fh = await open(probe, 'wx');
      await fh.close();
      await unlink(probe);
    } catch (err) {
      throw new ConfigError(`Cannot write to folder ${this.root}: ${messageOf(err)}. Choose a folder you can write to.`, {
        cause: err,
      });
    }
  }

  async *list(keyPrefix: string): AsyncIterable<StoredObject> {
    // Walk the deepest folder fully named by the prefix, then filter by the full prefix.
    const slash = keyPrefix.lastIndexOf('/');
    const base = slash < 0 ? '' : keyPrefix.slice(0, slash);
    const start = base === '' ? this.root : this.fileOf(base);
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
      const s = await lstat(this.fileOf(key));
      return s.isFile() ? { key, size: s.size, lastModified: s.mtime } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw new DestinationError(`reading ${key} failed: ${messageOf(err)}`, { cause: err });
    }
  }

  async put(request: PutRequest): Promise<PutResult> {
    const file = this.fileOf(request.key);
    await this.ensureParents(file);
    const tmpDir = path.join(this.root, TMP_DIR);
    await mkdir(tmpDir, { recursive: true });
    const tmp = path.join(tmpDir, `${randomBytes(8).toString('hex')}.part`);
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

  async get(key: string): Promise<Readable> {
    const file = this.fileOf(key);
    try {
      const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
      return fh.createReadStream();
    } catch (err) {
      throw new DestinationError(`reading ${key} failed: ${messageOf(err)}`, { cause: err, notFound: (err as NodeJS.ErrnoException).code === 'ENOENT' });
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.fileOf(key), { force: true });
  }
}
