import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { StoredObject } from '../../core/asset.ts';
import { DestinationError, PreconditionFailedError } from '../../core/errors.ts';
import type { Destination, PutRequest, PutResult, TaggedObject, WriteCondition } from '../../ports/storage.ts';
import { NO_FOLDING, decodeName, encodeName, foldedName } from './fold-safe.ts';
import type { Folding } from './fold-safe.ts';
import { TMP_DIR } from './folder.ts';

/**
 * Where a folder backup records the naming it uses (in its catalog folder): once written, it wins
 * over a new probe, so a backup copied to another disk is still read with the names it was
 * written with.
 */
export const NAMING_KEY = '_catalog/naming.json';

interface NamingRecord {
  readonly format: 1;
  readonly folding: Folding;
}

/** Reads a naming record; a damaged one is a clear error, never a silent change of every file name. */
const parseNaming = (body: Buffer, where: string): Folding => {
  try {
    const f = (JSON.parse(body.toString('utf8')) as Partial<NamingRecord>).folding;
    if (typeof f?.case === 'boolean' && typeof f.unicode === 'boolean') return { case: f.case, unicode: f.unicode };
  } catch {
    // reported below
  }
  throw new DestinationError(
    `${where} is damaged: it records how file names are encoded in this backup folder. Restore it from a copy of the folder (it holds {"format":1,"folding":{"case":true|false,"unicode":true|false}}).`,
  );
};

/**
 * Asks the store whether it folds names: writes a probe whose name has a capital and a
 * precomposed `é` (NFC), then looks it up by its small-letter twin and by its NFD twin. A store
 * that finds a twin files both names as one.
 */
export const probeFolding = async (store: Destination): Promise<Folding> => {
  const base = `${TMP_DIR}/fold-probe-${randomBytes(4).toString('hex')}-`;
  const probe = `${base}A\u00e9`;
  const body = Buffer.from('probe');
  await store.put({ key: probe, body, length: body.length });
  try {
    return {
      case: (await store.head(`${base}a\u00e9`)) !== undefined,
      unicode: (await store.head(`${base}Ae\u0301`)) !== undefined,
    };
  } finally {
    await store.delete(probe);
  }
};

/**
 * A folder destination that keeps every key a distinct file on a case-insensitive or normalising
 * file system (see fold-safe.ts): `check` (the start of a backup, never a dry run) probes the file
 * system once and records the naming in the catalog folder; every other use reads that record
 * (none: names as given). Keys seen by the engine, the catalog, restore, verify and `ls` are the
 * real keys; only the file names are encoded. A file whose name is not one this naming writes
 * (a foreign file, or one written before the naming was recorded) is not listed, so it is never
 * pruned as another key's.
 */
export class FoldSafeDestination implements Destination {
  readonly description: string;
  private folding: Folding | undefined;

  constructor(
    private readonly inner: Destination,
    /** Probes the file system (tests inject one). @default probeFolding(inner) */
    private readonly probe: () => Promise<Folding> = () => probeFolding(inner),
  ) {
    this.description = inner.description;
  }

  /** The naming in use: the recorded one, else names as given. */
  async naming(): Promise<Folding> {
    if (this.folding) return this.folding;
    const recorded = await this.readRecord();
    // The check may have recorded the naming while this read was in flight (a run takes its lease
    // at the same time as the check, backup/start-run.ts): what it recorded stands. Without this,
    // a late "no record" read would name the whole run's files as given on a folding disk.
    this.folding ??= recorded ?? NO_FOLDING;
    return this.folding;
  }

  private async readRecord(): Promise<Folding | undefined> {
    const rec = await this.inner.readTagged(NAMING_KEY);
    return rec && parseNaming(rec.body, `${this.description}/${NAMING_KEY}`);
  }

  private async enc(key: string): Promise<string> {
    return encodeName(key, await this.naming());
  }

  async check(): Promise<void> {
    await this.inner.check();
    // The check sets the naming itself (never through naming(), whose late reads defer to it).
    const known = await this.readRecord();
    if (known) {
      this.folding = known;
      return;
    }
    const folding = await this.probe();
    const body = Buffer.from(`${JSON.stringify({ format: 1, folding } satisfies NamingRecord, null, 2)}\n`, 'utf8');
    try {
      await this.inner.writeConditional(NAMING_KEY, body, { ifNoneMatch: '*' });
      this.folding = folding;
    } catch (err) {
      // Another run recorded it first: use theirs.
      if (!(err instanceof PreconditionFailedError)) throw err;
      this.folding = (await this.readRecord()) ?? NO_FOLDING;
    }
  }

  async *list(keyPrefix: string): AsyncIterable<StoredObject> {
    const folding = await this.naming();
    for await (const o of this.inner.list(encodeName(keyPrefix, folding))) {
      const key = decodeName(o.key, folding);
      if (key !== undefined && key.startsWith(keyPrefix)) yield { ...o, key };
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    const o = await this.inner.head(await this.enc(key));
    return o && { ...o, key };
  }

  async put(request: PutRequest): Promise<PutResult> {
    return this.inner.put({ ...request, key: await this.enc(request.key) });
  }

  async get(key: string): Promise<Readable> {
    return this.inner.get(await this.enc(key));
  }

  async delete(key: string): Promise<void> {
    return this.inner.delete(await this.enc(key));
  }

  /** The inner destination's copy, or (without one) a read and a write of the encoded keys. */
  async copy(fromKey: string, toKey: string): Promise<void> {
    const [from, to] = [await this.enc(fromKey), await this.enc(toKey)];
    if (this.inner.copy) return this.inner.copy(from, to);
    const stored = await this.inner.head(from);
    if (!stored) throw new DestinationError(`copying ${fromKey} failed: not found`, { notFound: true });
    await this.inner.put({ key: to, body: await this.inner.get(from), length: stored.size });
  }

  async readTagged(key: string): Promise<TaggedObject | undefined> {
    return this.inner.readTagged(await this.enc(key));
  }

  async writeConditional(key: string, body: Buffer, condition: WriteCondition): Promise<string> {
    return this.inner.writeConditional(await this.enc(key), body, condition);
  }

  /** The file a key is stored in, as the file system compares names (see Destination.fileIdentity). */
  fileIdentity(key: string): string {
    const folding = this.folding ?? NO_FOLDING;
    return foldedName(encodeName(key, folding), folding);
  }

  async settle(): Promise<void> {
    await this.inner.settle?.();
  }
}
