/**
 * The Admin API guard (lambda/adapters/cloudinary/guard.ts) around a scripted stub Source: retries of
 * 5xx and network errors, no retry of 401/404, a reserve of the hourly limit kept for the
 * user's app, 420/429 "Try again on ..." waited out, every call counted, and a wait longer
 * than maxWaitMs refused. Time is a fake clock moved by the injected wait policy.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Asset } from '../../lambda/core/asset.ts';
import { SourceError } from '../../lambda/core/errors.ts';
import { RateLimitedError } from '../../lambda/adapters/cloudinary/errors.ts';
import { GuardedSource } from '../../lambda/adapters/cloudinary/guard.ts';
import type { GuardOptions } from '../../lambda/adapters/cloudinary/guard.ts';
import type { ListPage, OpenedAsset, RateLimitInfo, Source } from '../../lambda/ports/storage.ts';

const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const MINUTE = 60_000;

type Step = ListPage | Error;

/** A Source that answers listPage from a script, one step per call. */
class ScriptedSource implements Source {
  calls = 0;
  constructor(private readonly script: Step[]) {}
  async listPage(): Promise<ListPage> {
    const step = this.script[this.calls];
    this.calls += 1;
    if (step === undefined) throw new Error(`unscripted call ${this.calls}`);
    if (step instanceof Error) throw step;
    return step;
  }
  open(_asset: Asset, _signal: AbortSignal): Promise<OpenedAsset> {
    return Promise.reject(new Error('not used'));
  }
}

const page = (rateLimit?: RateLimitInfo): ListPage => ({ assets: [], ...(rateLimit ? { rateLimit } : {}) });
const limits = (limit: number, remaining: number, resetInMs: number): RateLimitInfo => ({
  limit,
  remaining,
  resetAt: new Date(START + resetInMs),
});
const http = (code: number): SourceError => new SourceError(`HTTP ${code}`, code);
const network = (): SourceError => new SourceError('read ECONNRESET');

/** A guard over a script, with a fake clock that the wait policy moves forward. */
const harness = (script: Step[], options: GuardOptions = {}) => {
  let clock = START;
  const waits: Array<{ until: number; reason: string }> = [];
  const inner = new ScriptedSource(script);
  const guard = new GuardedSource(inner, {
    backoffMs: 1,
    now: () => clock,
    wait: async (until, reason) => {
      waits.push({ until: until.getTime(), reason });
      clock = Math.max(clock, until.getTime());
    },
    ...options,
  });
  return { guard, inner, waits, clock: () => clock };
};

describe('retries', () => {
  const cases: ReadonlyArray<{
    name: string;
    script: Step[];
    maxAttempts: number;
    ok: boolean;
    httpCode?: number;
    calls: number;
  }> = [
    { name: 'two 500s then a page', script: [http(500), http(500), page()], maxAttempts: 3, ok: true, calls: 3 },
    { name: '502, 503, 504 then a page', script: [http(502), http(503), http(504), page()], maxAttempts: 5, ok: true, calls: 4 },
    { name: 'a network error then a page', script: [network(), page()], maxAttempts: 3, ok: true, calls: 2 },
    { name: '500 until maxAttempts (3) is spent', script: [http(500), http(500), http(500), page()], maxAttempts: 3, ok: false, httpCode: 500, calls: 3 },
    { name: '500 until maxAttempts (1) is spent', script: [http(500), page()], maxAttempts: 1, ok: false, httpCode: 500, calls: 1 },
    { name: '401 is not retried', script: [http(401), page()], maxAttempts: 5, ok: false, httpCode: 401, calls: 1 },
    { name: '404 is not retried', script: [http(404), page()], maxAttempts: 5, ok: false, httpCode: 404, calls: 1 },
    { name: '400 is not retried', script: [http(400), page()], maxAttempts: 5, ok: false, httpCode: 400, calls: 1 },
    { name: 'a 503 then a 404: the 404 ends it', script: [http(503), http(404), page()], maxAttempts: 5, ok: false, httpCode: 404, calls: 2 },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const { guard, inner, waits } = harness(c.script, { maxAttempts: c.maxAttempts });
      const result = guard.listPage('image', 'upload', undefined);
      if (c.ok) {
        await result;
      } else {
        await assert.rejects(result, (err: unknown) => err instanceof SourceError && err.httpCode === c.httpCode);
      }
      assert.equal(inner.calls, c.calls, 'calls to the source');
      assert.equal(guard.apiCalls, c.calls, 'apiCalls counts every call, failed ones included');
      assert.deepEqual(waits, [], 'a retry is a backoff, not a wait for a reset');
    });
  }
});

describe('the reserve kept for the user app', () => {
  const cases: ReadonlyArray<{
    name: string;
    reserve?: GuardOptions['reserve'];
    first: RateLimitInfo;
    waits: boolean;
  }> = [
    { name: 'default 10%: 50 of 500 left -> wait', first: limits(500, 50, 20 * MINUTE), waits: true },
    { name: 'default 10%: 0 of 500 left -> wait', first: limits(500, 0, 20 * MINUTE), waits: true },
    { name: 'default 10%: 51 of 500 left -> go on', first: limits(500, 51, 20 * MINUTE), waits: false },
    { name: 'default 10% of 5,000: 500 left -> wait', first: limits(5000, 500, 20 * MINUTE), waits: true },
    { name: 'default 10% of 5,000: 501 left -> go on', first: limits(5000, 501, 20 * MINUTE), waits: false },
    { name: 'a count of 5: 5 left -> wait', reserve: 5, first: limits(500, 5, 20 * MINUTE), waits: true },
    { name: 'a count of 5: 6 left -> go on', reserve: 5, first: limits(500, 6, 20 * MINUTE), waits: false },
    { name: 'a count of 0: 1 left -> go on', reserve: 0, first: limits(500, 1, 20 * MINUTE), waits: false },
    { name: 'a fraction of 0.2 of 100: 20 left -> wait', reserve: { fraction: 0.2 }, first: limits(100, 20, 20 * MINUTE), waits: true },
    { name: 'a fraction of 0.2 of 100: 21 left -> go on', reserve: { fraction: 0.2 }, first: limits(100, 21, 20 * MINUTE), waits: false },
    { name: 'reserve reached but the window already reset -> go on', first: limits(500, 10, -1), waits: false },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const { guard, inner, waits, clock } = harness([page(c.first), page(limits(500, 499, 60 * MINUTE))], {
        ...(c.reserve !== undefined ? { reserve: c.reserve } : {}),
      });
      await guard.listPage('image', 'upload', undefined);
      assert.equal(waits.length, 0, 'the first call has no figures yet');
      await guard.listPage('image', 'upload', 'cursor-2');
      assert.equal(inner.calls, 2);
      assert.equal(guard.apiCalls, 2);
      if (c.waits) {
        assert.equal(waits.length, 1);
        assert.equal(waits[0]?.until, c.first.resetAt.getTime(), 'waits until the reset');
        assert.ok(clock() >= c.first.resetAt.getTime(), 'and calls only after it');
      } else {
        assert.deepEqual(waits, []);
      }
    });
  }
});

describe('420/429 "Try again on ..." is waited out', () => {
  const cases: ReadonlyArray<{ name: string; code: number; retryInMs: number }> = [
    { name: '420, try again in 5 minutes', code: 420, retryInMs: 5 * MINUTE },
    { name: '429, try again in 59 minutes', code: 429, retryInMs: 59 * MINUTE },
    { name: '420, try again in exactly 2 hours (the default limit)', code: 420, retryInMs: 120 * MINUTE },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const retryAt = new Date(START + c.retryInMs);
      const { guard, inner, waits } = harness([new RateLimitedError('Rate Limit Exceeded', c.code, retryAt), page()]);
      await guard.listPage('video', 'upload', undefined);
      assert.equal(waits.length, 1);
      assert.equal(waits[0]?.until, retryAt.getTime());
      assert.equal(inner.calls, 2);
      assert.equal(guard.apiCalls, 2, 'the rate-limited call counts');
    });
  }

  test('a rate limit without a time still waits before the next try', async () => {
    const { guard, inner, waits } = harness([new RateLimitedError('Too Many Requests', 429, undefined), page()]);
    await guard.listPage('raw', 'upload', undefined);
    assert.equal(waits.length, 1);
    assert.ok((waits[0]?.until ?? 0) > START, 'a time in the future');
    assert.equal(inner.calls, 2);
  });
});

describe('a wait longer than maxWaitMs gives up', () => {
  const cases: ReadonlyArray<{ name: string; maxWaitMs?: number; script: () => Step[]; calls: number }> = [
    {
      name: '420 asking for 2 h + 1 min with the default 2 h',
      script: () => [new RateLimitedError('Try again later', 420, new Date(START + 121 * MINUTE)), page()],
      calls: 1,
    },
    {
      name: '429 asking for 10 min with maxWaitMs 5 min',
      maxWaitMs: 5 * MINUTE,
      script: () => [new RateLimitedError('Try again later', 429, new Date(START + 10 * MINUTE)), page()],
      calls: 1,
    },
    {
      name: 'reserve reached, reset in 30 min, maxWaitMs 10 min',
      maxWaitMs: 10 * MINUTE,
      script: () => [page(limits(500, 10, 30 * MINUTE)), page()],
      calls: 1,
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const { guard, inner, waits } = harness(c.script(), {
        ...(c.maxWaitMs !== undefined ? { maxWaitMs: c.maxWaitMs } : {}),
      });
      const run = async (): Promise<void> => {
        await guard.listPage('image', 'upload', undefined);
        await guard.listPage('image', 'upload', 'next');
      };
      await assert.rejects(run(), SourceError);
      assert.deepEqual(waits, [], 'did not start a wait it would not finish');
      assert.equal(inner.calls, c.calls);
      assert.equal(guard.apiCalls, c.calls);
    });
  }
});

describe('/usage figures and signed downloads under the reserve', () => {
  const asset = (type: string): Asset => ({
    assetId: 'a', publicId: `p-${type}`, resourceType: 'image', type, format: 'jpg', version: 1, bytes: 1,
    createdAt: '', secureUrl: 'https://res.cloudinary.com/x/image/upload/v1/p.jpg', tags: [], context: {}, metadata: {},
  });

  /** A source whose usage() carries rate-limit figures and whose open() records the route asked. */
  class RoutedSource extends ScriptedSource {
    routes: string[] = [];
    constructor(private readonly usageLimits: RateLimitInfo) {
      super([page()]);
    }
    async usage() {
      return { plan: 'Free', creditsUsed: 0, creditLimit: 25, rateLimit: this.usageLimits };
    }
    routeFor(a: Asset): 'cdn' | 'api' {
      return a.type === 'upload' ? 'cdn' : 'api';
    }
    override open(_a: Asset, _s: AbortSignal, route?: 'cdn' | 'api'): Promise<OpenedAsset> {
      this.routes.push(route ?? 'none');
      return Promise.resolve({ body: undefined as never, length: 1 });
    }
  }

  test("the /usage call's rate-limit headers feed the reserve: the next call waits for the reset", async () => {
    let clock = START;
    const waits: number[] = [];
    const inner = new RoutedSource(limits(500, 50, 30 * MINUTE));
    const guard = new GuardedSource(inner, { now: () => clock, wait: async (until) => { waits.push(until.getTime()); clock = until.getTime(); } });
    await guard.usage();
    await guard.listPage('image', 'upload', undefined);
    assert.deepEqual(waits, [START + 30 * MINUTE], '50 of 500 left is the 10% reserve');
  });

  test('a signed download is one Admin API call; at the reserve it is deferred when the run cannot wait', async () => {
    const clock = START;
    const inner = new RoutedSource(limits(500, 52, 30 * MINUTE));
    const guard = new GuardedSource(inner, { now: () => clock, wait: async () => { throw new Error('durable runs wait between pages'); } });
    await guard.usage();
    const before = guard.apiCalls;
    await guard.open(asset('upload'), new AbortController().signal);
    assert.equal(guard.apiCalls, before, 'the CDN route costs no Admin API call');
    await guard.open(asset('private'), new AbortController().signal);
    await guard.open(asset('private'), new AbortController().signal);
    assert.equal(guard.apiCalls, before + 2);
    assert.deepEqual(inner.routes, ['cdn', 'api', 'api']);
    // 52 - 2 = 50: the reserve. The third signed download waits for the next run.
    await assert.rejects(guard.open(asset('authenticated'), new AbortController().signal), { name: 'AssetDeferredError' });
    assert.equal(inner.routes.length, 3, 'nothing fetched');
  });
});
