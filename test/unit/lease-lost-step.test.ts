/**
 * A run that finds its lease taken over writes no catalog page after (found by the review of the
 * durable step without a page barrier): the run that took the lease over starts from the same
 * committed pointer, so it writes its pages into the same slots, and a page the old run wrote
 * after the loss would overwrite the new holder's. Here the loss is found where the Lambda finds
 * it, when the step opens its next listing page (the renewal, PageRunner.open); the page opened
 * before it still drains, and neither its record nor the step's end (persist) may write.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ListPage } from '../../lambda/ports/storage.ts';
import { BackupEngine } from '../../lambda/backup/engine.ts';
import type { RunState } from '../../lambda/backup/engine.ts';
import { LeaseLostError } from '../../lambda/core/errors.ts';
import { Lease, describeHolder } from '../../lambda/store/lease.ts';
import { HoldingSource, within } from '../fakes/holding-source.ts';
import { MemoryDestination } from '../fakes/memory-destination.ts';
import { STEP, lambdaClock, stepOptions } from '../fakes/step-engine.ts';

const LIFETIME_MS = 80;

const options = stepOptions({ leaseLifetimeMs: LIFETIME_MS });

/** The second listing page waits until the test lets it go. */
class HeldListing extends HoldingSource {
  private go!: () => void;
  private readonly gate = new Promise<void>((r) => (this.go = r));
  letListingGo(): void {
    this.go();
  }
  override async listPage(rt: string, type: string, cursor: string | undefined): Promise<ListPage> {
    if (type === 'upload' && cursor === 'p1') await this.gate;
    return super.listPage(rt, type, cursor);
  }
}

/** The catalog's objects and their bytes, to see that none was written or rewritten. */
const catalogFiles = (dest: MemoryDestination): string[] =>
  dest
    .keys()
    // Copy records (store/copy-record.ts) are this run's own files: a run that lost its lease still records its finished copies.
    .filter((k) => k.startsWith('_catalog/') && !k.startsWith('_catalog/copies/'))
    .map((k) => `${k}:${dest.bytes(k)?.toString('base64')}`)
    .sort();

test('a durable step that finds its lease taken over writes no catalog page, in the step or at its end', async () => {
  const source = new HeldListing([['a1', 'big'], ['b1']], new Set(['big']));
  const dest = new MemoryDestination();
  const engine = new BackupEngine(source, dest, options);
  let last: RunState | undefined;
  const step = engine.step(await engine.start(), lambdaClock().bound, { ...STEP, onState: (s) => (last = s) });
  step.catch(() => undefined);
  await within(source.startedOf('big'), 5000, 'the first page copying');

  // The lease expires (no renewal: the step is copying) and another run takes it over.
  await new Promise((r) => setTimeout(r, LIFETIME_MS + 20));
  await new Lease(dest, '', 'the test bucket', LIFETIME_MS).acquire(describeHolder('other run'), 'other-run');
  const before = catalogFiles(dest);

  // The next listing page opens: its renewal finds the lease lost. The first page still drains.
  source.letListingGo();
  await new Promise((r) => setTimeout(r, 20));
  source.release('big');
  await assert.rejects(within(step, 5000, 'the step ending'), LeaseLostError);
  assert.ok(last, 'the first page was recorded');
  // What NightlyRun.page does with the state after a failed step: persist it (unless the error
  // is the lease lost). The pending entries of page 1 are not in S3, so persist would write.
  await assert.rejects(engine.persist(last), LeaseLostError);
  assert.deepEqual(catalogFiles(dest), before, 'no catalog page written after the lease was lost');
});
