/**
 * Download faults a test arms (cut, stall, reset, redirect, overlong, fail) per public_id, and a
 * seeded failure rate over all downloads. Deterministic: the same seed cuts the same downloads.
 */
import { createHash } from 'node:crypto';
import { mulberry32 } from '../content.ts';

/** One armed fault; `persistent` ones apply to every download of the asset. */
export interface DownloadFault {
  kind: 'cut' | 'stall' | 'overlong' | 'fail' | 'reset' | 'redirect';
  afterBytes?: number;
  extraBytes?: number;
  status?: number;
  location?: string;
  chunked?: boolean;
  persistent: boolean;
}

/** A seeded failure rate: drawn in request order, or per asset and attempt (order-independent). */
interface FailureRate {
  rate: number;
  rng: () => number;
  seed: number;
  byAsset: boolean;
  attempts: Map<string, number>;
}

/** The armed download faults. */
export class DownloadFaults {
  private readonly byId = new Map<string, DownloadFault>();
  private failureRate: FailureRate | undefined;

  /** Arms `fault` for the asset's next download (every one when persistent). */
  set(publicId: string, fault: DownloadFault): void {
    this.byId.set(publicId, fault);
  }

  /** Cuts a seeded fraction of downloads (see CloudinaryFake.downloadFailureRate); 0 turns it off. */
  setRate(rate: number, seed: number, byAsset: boolean): void {
    this.failureRate = rate > 0 ? { rate, rng: mulberry32(seed), seed, byAsset, attempts: new Map() } : undefined;
  }

  clear(): void {
    this.byId.clear();
    this.failureRate = undefined;
  }

  /** The fault for this download of `publicId` (`size` bytes served), if any; per-asset faults first. */
  take(publicId: string, size: number): DownloadFault | undefined {
    const fault = this.byId.get(publicId);
    if (fault) {
      if (!fault.persistent) this.byId.delete(publicId);
      return fault;
    }
    const fr = this.failureRate;
    if (fr && size > 0) {
      let rng = fr.rng;
      if (fr.byAsset) {
        const n = (fr.attempts.get(publicId) ?? 0) + 1;
        fr.attempts.set(publicId, n);
        rng = mulberry32(createHash('sha256').update(`${fr.seed}:${publicId}:${n}`).digest().readUInt32LE(0));
      }
      if (rng() < fr.rate) return { kind: 'cut', afterBytes: Math.floor(rng() * size), persistent: false };
    }
    return undefined;
  }
}
