/**
 * The Destination contract (lambda/ports/storage.ts), one suite for every destination: memory,
 * folder, S3 (s3rver). What backups rely on: a put is atomic (a body that errors, or delivers
 * fewer or more bytes than announced through the ExactLengthStream every caller puts in front,
 * stores nothing and leaves the old object), listing is by key prefix, head/get/delete behave on
 * missing keys, conditional writes have S3's semantics (S3 User Guide, "How to prevent object
 * overwrites with conditional writes": If-None-Match `*` on an existing key and If-Match with a
 * stale ETag answer 412; of concurrent conditional writes at most one succeeds), and the run
 * lease built on them (lambda/store/lease.ts) takes, refuses, renews, releases and expires.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { Readable } from 'node:stream';
import { Lease } from '../../lambda/store/lease.ts';
import type { Destination } from '../../lambda/ports/storage.ts';
import { ExactLengthStream } from '../../lambda/transfer/exact-length.ts';

/** A fresh, empty destination and how to dispose of it. */
export interface ContractSubject {
  readonly destination: Destination;
  close(): Promise<void>;
}

/** What a destination under test cannot do yet; each limit skips the tests that need it, saying why. */
export interface ContractLimits {
  /** Why conditional writes (and the lease) cannot be tested on this destination, if they cannot. */
  readonly conditional?: () => Promise<string | undefined>;
  /** Why an abandoned put may leave bytes behind on this destination, if it may. */
  readonly abandonedPut?: string;
}

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

const read = async (d: Destination, key: string): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const c of await d.get(key)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const keysUnder = async (d: Destination, prefix: string): Promise<string[]> => {
  const out: string[] = [];
  for await (const o of d.list(prefix)) out.push(o.key);
  return out.sort();
};

/** A download: chunks with pauses, erroring at the end when `fail` is set. */
const download = (chunks: readonly Buffer[], fail?: Error): Readable =>
  Readable.from(
    (async function* () {
      for (const c of chunks) {
        yield c;
        await new Promise((r) => setTimeout(r, 5));
      }
      if (fail) throw fail;
    })(),
  );

/** A body as every caller writes one: through ExactLengthStream (lambda/transfer/retrying.ts). */
const guarded = (chunks: readonly Buffer[], length: number, fail?: Error): ExactLengthStream => {
  const g = new ExactLengthStream(length, 5_000);
  const src = download(chunks, fail);
  src.on('error', (e) => g.destroy(e));
  return src.pipe(g);
};

/** Runs the contract against `make` (a fresh destination per test). */
export const destinationContract = (name: string, make: () => Promise<ContractSubject>, limits: ContractLimits = {}): void => {
  const withSubject = (fn: (d: Destination, t: TestContext) => Promise<void>) => async (t: TestContext) => {
    const s = await make();
    try {
      await fn(s.destination, t);
    } finally {
      await s.close();
    }
  };
  /** Skips (saying why) when the destination cannot do conditional writes yet. */
  const conditional = (fn: (d: Destination, t: TestContext) => Promise<void>) =>
    withSubject(async (d, t) => {
      const why = await limits.conditional?.();
      if (why) return t.skip(why);
      await fn(d, t);
    });

  describe(`Destination contract: ${name}`, () => {
    test('put, head, get and list by prefix', withSubject(async (d) => {
      await d.put({ key: 'p/image/upload/a.jpg', body: buf('aaa'), length: 3 });
      await d.put({ key: 'p/image/upload/sub/b.jpg', body: guarded([buf('bb'), buf('b')], 3), length: 3 });
      await d.put({ key: 'p/image/uploadx.jpg', body: buf('x'), length: 1 });
      await d.put({ key: 'q/image/upload/c.jpg', body: buf('c'), length: 1 });
      assert.equal((await d.head('p/image/upload/a.jpg'))?.size, 3);
      assert.equal(await d.head('p/image/upload/none.jpg'), undefined);
      assert.equal(await read(d, 'p/image/upload/sub/b.jpg'), 'bbb');
      assert.deepEqual(await keysUnder(d, 'p/image/upload/'), ['p/image/upload/a.jpg', 'p/image/upload/sub/b.jpg']);
      assert.deepEqual(await keysUnder(d, 'p/image/upload'), ['p/image/upload/a.jpg', 'p/image/upload/sub/b.jpg', 'p/image/uploadx.jpg']);
      assert.deepEqual(await keysUnder(d, 'r/'), []);
    }));

    test('keys that differ only in case or Unicode form are distinct objects', withSubject(async (d) => {
      const twins = ['t/Photo.jpg', 't/photo.jpg', 't/caf\u00e9.jpg', 't/cafe\u0301.jpg'];
      for (const [i, k] of twins.entries()) await d.put({ key: k, body: buf(`body ${i}`), length: 6 });
      for (const [i, k] of twins.entries()) assert.equal(await read(d, k), `body ${i}`, k);
      assert.deepEqual(await keysUnder(d, 't/'), [...twins].sort());
      await d.delete('t/Photo.jpg');
      assert.equal(await read(d, 't/photo.jpg'), 'body 1', 'deleting one twin keeps the other');
    }));

    test('get of a missing key rejects as not found; delete of a missing key does not', withSubject(async (d) => {
      await assert.rejects(d.get('nothing/here.jpg'), (e: Error & { notFound?: boolean }) => e.name === 'DestinationError' && e.notFound === true);
      await d.delete('nothing/here.jpg');
      await d.put({ key: 'k/x.jpg', body: buf('x'), length: 1 });
      await d.delete('k/x.jpg');
      assert.equal(await d.head('k/x.jpg'), undefined);
      assert.deepEqual(await keysUnder(d, 'k/'), []);
    }));

    const failing: ReadonlyArray<readonly [string, () => Readable, number]> = [
      ['a body that errors midway', () => guarded([buf('new '), buf('by')], 10, new Error('connection reset')), 10],
      ['a body shorter than announced', () => guarded([buf('new '), buf('by')], 10), 10],
      ['a body longer than announced (boundary exactly at the length)', () => guarded([buf('new bytes!'), buf('more')], 10), 10],
    ];
    for (const [what, body, length] of failing) {
      test(`${what}: the put rejects, the old object stays, nothing else appears`, withSubject(async (d, t) => {
        if (limits.abandonedPut && what.includes('errors')) return t.skip(limits.abandonedPut);
        await d.put({ key: 'a/obj.bin', body: buf('old bytes!'), length: 10 });
        await assert.rejects(d.put({ key: 'a/obj.bin', body: body(), length }));
        assert.equal(await read(d, 'a/obj.bin'), 'old bytes!');
        assert.deepEqual(await keysUnder(d, 'a/'), ['a/obj.bin']);
      }));
    }

    test('If-None-Match: exactly one of racing writers wins; the others get PreconditionFailedError', conditional(async (d) => {
      const bodies = Array.from({ length: 6 }, (_, i) => buf(`writer ${i}`));
      const results = await Promise.allSettled(bodies.map((b) => d.writeConditional('c/lock.json', b, { ifNoneMatch: '*' })));
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      assert.equal(won.length, 1, 'exactly one winner');
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as Error).name, 'PreconditionFailedError', String(r.reason));
      const stored = await d.readTagged('c/lock.json');
      assert.equal(stored?.body.toString(), `writer ${won[0]}`);
      assert.equal(stored?.etag, (results[won[0] as number] as PromiseFulfilledResult<string>).value, 'the tag read is the tag written');
    }));

    test('If-Match: the current tag replaces; a stale tag is refused; of two writers with one tag, one wins', conditional(async (d) => {
      const t1 = await d.writeConditional('c/x.json', buf('one'), { ifNoneMatch: '*' });
      const t2 = await d.writeConditional('c/x.json', buf('two'), { ifMatch: t1 });
      assert.notEqual(t2, t1);
      await assert.rejects(d.writeConditional('c/x.json', buf('stale'), { ifMatch: t1 }), { name: 'PreconditionFailedError' });
      assert.equal((await d.readTagged('c/x.json'))?.body.toString(), 'two');
      const race = await Promise.allSettled([d.writeConditional('c/x.json', buf('three'), { ifMatch: t2 }), d.writeConditional('c/x.json', buf('four!'), { ifMatch: t2 })]);
      assert.equal(race.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one winner');
      assert.equal(await d.readTagged('c/none.json'), undefined);
    }));

    test('the lease: take, held-by message, renew, release, takeover after expiry', conditional(async (d) => {
      const lease = new Lease(d, 'pre', name, 60_000);
      const t0 = new Date('2026-01-01T00:00:00Z');
      const mine = await lease.acquire('night run', 'run-1', t0);
      const other = await lease.take('laptop', 'run-2', new Date(t0.getTime() + 1000));
      assert.ok('heldBy' in other && other.heldBy.holder === 'night run');
      await assert.rejects(lease.acquire('laptop', 'run-2', new Date(t0.getTime() + 1000)), (e: Error) => e.name === 'LeaseHeldError' && /night run \(run run-1\)/.test(e.message));
      // Renewed at +50 s: still held at +100 s (it would have expired at +60 s without renewal).
      const renewed = await lease.renew(mine, new Date(t0.getTime() + 50_000));
      assert.ok('heldBy' in (await lease.take('laptop', 'run-2', new Date(t0.getTime() + 100_000))));
      await lease.release(renewed, new Date(t0.getTime() + 101_000));
      const next = await lease.take('laptop', 'run-2', new Date(t0.getTime() + 102_000));
      assert.ok('held' in next, 'free after release');
      // run-2 is killed: its lease expires 60 s later and is taken over.
      assert.ok('heldBy' in (await lease.take('third', 'run-3', new Date(t0.getTime() + 150_000))));
      const taken = await lease.take('third', 'run-3', new Date(t0.getTime() + 170_000));
      assert.ok('held' in taken, 'an expired lease is taken over');
      if ('held' in next) await assert.rejects(lease.renew(next.held, new Date(t0.getTime() + 171_000)), { name: 'LeaseLostError' });
    }));

    test('two runs taking the lease at once: exactly one holds it', conditional(async (d) => {
      const lease = new Lease(d, '', name);
      const now = new Date();
      const r = await Promise.all(['a', 'b', 'c', 'd'].map((h) => lease.take(h, `run-${h}`, now)));
      assert.equal(r.filter((x) => 'held' in x).length, 1);
    }));
  });
};
