/** `GET /usage`: the Admin API usage report, computed from the store and the bytes delivered. */
import { deepMerge, isoSeconds, pick } from './params.ts';
import type { UsagePatch } from './params.ts';
import type { FakeContext } from './context.ts';
import type { FakeAsset } from './types.ts';

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/** What the report is computed from at the time of the call. */
export interface UsageInputs {
  readonly assets: readonly FakeAsset[];
  /** Delivery and download requests so far (the report's `requests`). */
  readonly requests: number;
  readonly nowMs: number;
}

/** The usage base a test set, the bytes delivered since, and the daily-snapshot switch. */
export class UsageMeter {
  private base: UsagePatch = {};
  private delivered = 0;
  private lagged = false;
  private snapshotDelivered = 0;

  constructor(private readonly legacyQuotaPlan: boolean) {}

  /** Deep-merges a patch into the base. */
  set(patch: UsagePatch): void {
    this.base = deepMerge(this.base, patch);
  }

  /** Counts bytes delivered (bandwidth and credits). */
  addDelivered(bytes: number): void {
    this.delivered += bytes;
  }

  /** Turns the daily snapshot on or off, taking a snapshot. */
  lag(on: boolean): void {
    this.lagged = on;
    this.takeSnapshot();
  }

  /** What was delivered so far shows in the report from now on. */
  takeSnapshot(): void {
    this.snapshotDelivered = this.delivered;
  }

  /** Clears the base and the delivered-bytes counter. */
  reset(): void {
    this.base = {};
    this.delivered = 0;
    this.snapshotDelivered = 0;
  }

  /** The report `GET /usage` returns now (Cloudinary's documented shape, Admin API reference "usage"). */
  report(inputs: UsageInputs): Record<string, unknown> {
    const base = this.base;
    const num = (path: string[]): number | undefined => {
      let v: unknown = base;
      for (const p of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p] : undefined;
      return typeof v === 'number' ? v : undefined;
    };
    let stored = 0;
    for (const a of inputs.assets) stored += a.bytes;
    const delivered = this.lagged ? this.snapshotDelivered : this.delivered;
    const bandwidthBytes = (num(['bandwidth', 'usage']) ?? 0) + delivered;
    const storageBytes = num(['storage', 'usage']) ?? stored;
    const transformationCredits = num(['transformations', 'credits_usage']) ?? 0;
    const baseCredits = num(['credits', 'usage']);
    const creditsUsed = round(
      baseCredits !== undefined
        ? baseCredits + delivered / 1e9
        : bandwidthBytes / 1e9 + storageBytes / 1e9 + transformationCredits,
    );
    const limit = num(['credits', 'limit']) ?? 25;
    const computed = {
      plan: 'Free',
      last_updated: new Date(inputs.nowMs).toISOString().slice(0, 10),
      date_requested: isoSeconds(inputs.nowMs),
      transformations: { usage: 0, credits_usage: transformationCredits },
      objects: { usage: inputs.assets.length },
      bandwidth: { usage: bandwidthBytes, credits_usage: round(bandwidthBytes / 1e9) },
      storage: { usage: storageBytes, credits_usage: round(storageBytes / 1e9) },
      credits: { usage: creditsUsed, limit, used_percent: round((creditsUsed / limit) * 100) },
      requests: inputs.requests,
      resources: inputs.assets.length,
      derived_resources: 0,
      media_limits: {
        image_max_size_bytes: 10_485_760,
        video_max_size_bytes: 104_857_600,
        raw_max_size_bytes: 10_485_760,
        image_max_px: 25_000_000,
        asset_max_total_px: 50_000_000,
      },
    };
    if (this.legacyQuotaPlan) {
      // Older per-quota plans: no `credits` object; each metric has its own `limit` (bytes).
      const { credits: _credits, ...rest } = computed;
      const bandwidthLimit = num(['bandwidth', 'limit']) ?? 25e9;
      const legacy = { ...rest, bandwidth: { ...rest.bandwidth, limit: bandwidthLimit, used_percent: round((bandwidthBytes / bandwidthLimit) * 100) } };
      const { credits: _c, ...baseRest } = base;
      return deepMerge(deepMerge(baseRest, legacy), pick(baseRest, ['plan', 'last_updated', 'requests', 'resources', 'derived_resources', 'media_limits']));
    }
    // Explicit values other than the counters computed above win.
    return deepMerge(deepMerge(base, computed), pick(base, ['plan', 'last_updated', 'requests', 'resources', 'derived_resources', 'media_limits']));
  }
}

/** The usage report of the fake's account as of now. */
export function usageReport(ctx: FakeContext): Record<string, unknown> {
  const requests = ctx.stats().requests;
  return ctx.usage.report({ assets: ctx.store.ordered, requests: requests.delivery + requests.download, nowMs: ctx.now() });
}
