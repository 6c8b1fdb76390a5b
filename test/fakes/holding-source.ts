/**
 * An in-memory Source of listing pages whose downloads a test can hold and release, for the
 * no-page-barrier tests (pipeline.test.ts, durable-step.test.ts). Listing follows the port's
 * contract (lambda/ports/storage.ts: a page of assets and a next_cursor while more follow), as the
 * Admin API's `GET /resources/:resource_type/:type` does with `next_cursor`
 * (https://cloudinary.com/documentation/admin_api#get_resources).
 */
import { Readable } from 'node:stream';
import type { Asset } from '../../lambda/core/asset.ts';
import { SourceError } from '../../lambda/core/errors.ts';
import type { ListPage, OpenedAsset, Source } from '../../lambda/ports/storage.ts';
import { listedAsset } from './listed-asset.ts';

const asset = (publicId: string): Asset => listedAsset(publicId, { bytes: publicId.length });

/** Pages of ids by cursor ('' first, then 'p1', 'p2', ...); `held` downloads wait for release(). */
export class HoldingSource implements Source {
  apiCalls = 0;
  /** Bytes of an asset by id (default: the id's length). */
  sizes: (id: string) => number = (id) => id.length;
  readonly started: string[] = [];
  private readonly waiting = new Map<string, () => void>();
  private readonly seen = new Map<string, () => void>();
  constructor(
    private readonly pages: string[][],
    private readonly held: ReadonlySet<string>,
    private readonly failAt?: number,
  ) {}
  async listPage(_rt: string, type: string, cursor: string | undefined): Promise<ListPage> {
    this.apiCalls += 1;
    if (type !== 'upload') return { assets: [] };
    const n = cursor ? Number(cursor.slice(1)) : 0;
    if (n === this.failAt) throw new SourceError(`listing page ${n} failed`, 500);
    const ids = this.pages[n] ?? [];
    return { assets: ids.map((id) => ({ ...asset(id), bytes: this.sizes(id) })), ...(n + 1 < this.pages.length ? { nextCursor: `p${n + 1}` } : {}) };
  }
  // The port's contract (lambda/ports/storage.ts, Source.open): `signal` aborts the open, which
  // then rejects; a held download honours it as the SDK's request does.
  async open(a: Asset, signal?: AbortSignal): Promise<OpenedAsset> {
    this.started.push(a.publicId);
    this.seen.get(a.publicId)?.();
    if (this.held.has(a.publicId)) {
      await new Promise<void>((resolve, reject) => {
        this.waiting.set(a.publicId, resolve);
        signal?.addEventListener('abort', () => reject(new Error(`download of ${a.publicId} aborted`)), { once: true });
      });
    }
    return { body: Readable.from([Buffer.alloc(a.bytes, a.publicId)]), length: a.bytes };
  }
  /** Resolves once the download of `id` has started. */
  startedOf(id: string): Promise<void> {
    if (this.started.includes(id)) return Promise.resolve();
    return new Promise((resolve) => this.seen.set(id, resolve));
  }
  release(id: string): void {
    this.waiting.get(id)?.();
  }
}


/** Rejects when `p` has not settled within `ms`: the test's verdict that it never would. */
export const within = async <T>(p: Promise<T>, ms: number, what: string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
};

