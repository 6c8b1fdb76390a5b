/** Admin API listing: `GET /v1_1/:cloud/resources/:resource_type[/:type]`, paged, with its faults. */
import { createHash } from 'node:crypto';
import { HttpError, decodeSeg } from '../http-util.ts';
import type { FakeContext } from './context.ts';
import { decodeCursor, encodeCursor, formatTryAgain } from './params.ts';
import { resourceJson } from './resources.ts';
import { parseResourceType } from './store.ts';
import type { ListingFaultOptions, MutableAsset } from './types.ts';

/** One armed listing failure. */
interface ListingFault {
  status: number;
  message?: string;
  retryAt?: number;
  retryInMs?: number;
}

/** The listing faults a test arms; each is used once, in order. */
export class ListingFaults {
  /** Queued listing outcomes; null lets one listing through (see ListingFaultOptions.after). */
  private queue: Array<ListingFault | null> = [];
  private malformed = false;
  private repeat = false;

  /** Queues `after` passes, then `times` failures with `status`. */
  failNext(status: number, opts: ListingFaultOptions): void {
    for (let i = 0; i < (opts.after ?? 0); i++) this.queue.push(null);
    for (let i = 0; i < (opts.times ?? 1); i++) {
      const fault: ListingFault = { status };
      if (opts.message !== undefined) fault.message = opts.message;
      if (opts.retryAt !== undefined) fault.retryAt = opts.retryAt;
      if (opts.retryInMs !== undefined) fault.retryInMs = opts.retryInMs;
      this.queue.push(fault);
    }
  }

  /** The next listing answers truncated JSON. */
  malformedOnce(): void {
    this.malformed = true;
  }

  /** The next listing with a next_cursor returns that cursor again. */
  repeatCursorOnce(): void {
    this.repeat = true;
  }

  clear(): void {
    this.queue = [];
    this.malformed = false;
    this.repeat = false;
  }

  /** The next queued outcome: a fault, or undefined to answer normally. */
  take(): ListingFault | undefined {
    return this.queue.shift() ?? undefined;
  }

  /** Whether this listing answers truncated JSON (then disarmed). */
  takeMalformed(): boolean {
    const was = this.malformed;
    this.malformed = false;
    return was;
  }

  /** Whether this listing repeats its incoming cursor (then disarmed). */
  takeRepeat(): boolean {
    const was = this.repeat;
    this.repeat = false;
    return was;
  }
}

/**
 * An armed listing fault's answer: 420/429 "Rate Limit Exceeded. Try again on <time>" with the
 * rate-limit headers (the wording clients parse; Cloudinary support, "Are Cloudinary APIs rate-limited?"), 5xx without them.
 */
export function listingFaultAnswer(ctx: FakeContext, fault: ListingFault): { message: string; headers: Record<string, string> } {
  const retryAt = fault.retryInMs !== undefined ? ctx.now() + fault.retryInMs : (fault.retryAt ?? ctx.rate.resetAt());
  const message =
    fault.message ??
    (fault.status === 420 || fault.status === 429
      ? `Rate Limit Exceeded. Try again on ${formatTryAgain(retryAt)}`
      : fault.status === 500
        ? 'Internal server error'
        : fault.status === 502
          ? 'Bad Gateway'
          : 'Service Unavailable');
  return { message, headers: fault.status >= 502 ? {} : ctx.rate.headers() };
}

function byIdThenSeq(a: { publicId: string; seq: number }, b: { publicId: string; seq: number }): number {
  if (a.publicId !== b.publicId) return a.publicId < b.publicId ? -1 : 1;
  return a.seq - b.seq;
}

/**
 * One listing page. `max_results` 1..500 (default 10); `prefix` listings are sorted by
 * public_id, others by creation time (`direction`); `next_cursor` is opaque and tied to the
 * query it came from.
 */
export function listing(ctx: FakeContext, url: URL, rest: string[]): Record<string, unknown> {
  const resourceType = parseResourceType(decodeSeg(rest[1] ?? ''));
  // Admin API reference, "Get resources": `type` is optional with "Default: upload". Older SDK
  // docs said an omitted type lists every type; the fake takes the stricter, current reading.
  const type = rest[2] !== undefined && rest[2] !== '' ? decodeSeg(rest[2]) : 'upload';
  const q = url.searchParams;
  const maxRaw = q.get('max_results');
  const asked = maxRaw === null ? 10 : Number(maxRaw);
  if (!Number.isInteger(asked) || asked < 1) throw new HttpError(400, `Invalid max_results ${maxRaw}`);
  if (asked > 500) throw new HttpError(400, `max_results should be at most 500 (got ${asked})`);
  const max = Math.min(asked, ctx.settings.pageSize ?? asked);
  const prefix = q.get('prefix') ?? '';
  const direction = /^(asc|1)$/i.test(q.get('direction') ?? '') ? 'asc' : 'desc';
  const fingerprint = createHash('sha1')
    .update(`${resourceType}|${type}|${prefix}|${prefix ? 'id' : direction}`)
    .digest('hex')
    .slice(0, 12);
  const cursorIn = q.get('next_cursor') ?? undefined;
  const after = cursorIn === undefined ? undefined : decodeCursor(cursorIn, fingerprint, prefix !== '');
  const matches = (a: MutableAsset): boolean =>
    a.resourceType === resourceType && a.type === type && a.publicId.startsWith(prefix);
  const { page, more } = prefix
    ? pageById(ctx, matches, after as [string, number] | undefined, max)
    : pageBySeq(ctx, matches, after as number | undefined, max, direction === 'asc' ? 1 : -1);
  const flags = {
    tags: q.get('tags') === 'true',
    context: q.get('context') === 'true',
    metadata: q.get('metadata') === 'true',
    moderations: q.get('moderations') === 'true',
  };
  const body: Record<string, unknown> = { resources: page.map((a) => resourceJson(ctx, a, flags)) };
  const last = page[page.length - 1];
  if (more && last) {
    let next = encodeCursor(fingerprint, prefix ? [last.publicId, last.seq] : last.seq);
    if (cursorIn !== undefined && ctx.listingFaults.takeRepeat()) next = cursorIn;
    body['next_cursor'] = next;
  }
  return body;
}

type Page = { page: MutableAsset[]; more: boolean };

/** Cloudinary sorts prefix listings by public_id. */
function pageById(ctx: FakeContext, matches: (a: MutableAsset) => boolean, after: [string, number] | undefined, max: number): Page {
  const all = ctx.store.ordered.filter(matches).sort(byIdThenSeq);
  let start = 0;
  if (after) {
    const [id, seq] = after;
    start = all.findIndex((a) => byIdThenSeq(a, { publicId: id, seq }) > 0);
    if (start < 0) start = all.length;
  }
  return { page: all.slice(start, start + max), more: start + max < all.length };
}

/** Other listings go by creation order, newest first unless `direction=asc`. */
function pageBySeq(ctx: FakeContext, matches: (a: MutableAsset) => boolean, after: number | undefined, max: number, step: 1 | -1): Page {
  const ordered = ctx.store.ordered;
  const page: MutableAsset[] = [];
  let i: number;
  if (after === undefined) i = step === 1 ? 0 : ordered.length - 1;
  else if (step === 1) i = ctx.store.lowerBound(after + 1);
  else i = ctx.store.lowerBound(after) - 1;
  for (; i >= 0 && i < ordered.length; i += step) {
    const a = ordered[i] as MutableAsset;
    if (!matches(a)) continue;
    if (page.length === max) return { page, more: true };
    page.push(a);
  }
  return { page, more: false };
}
