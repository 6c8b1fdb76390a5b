/**
 * bin/heap.js (issue 14): the command line caps V8's new space (the young generation) at
 * NEW_SPACE_CAP_MIB on every Node.js it runs on. Node.js 24's V8 grows it to 128 MiB on a machine
 * this size (Node.js 20's to 32), which put the 1,000,000-asset verify and restore over 512 MiB.
 * The semi-space limit is read only when V8 sets up its heap (Heap::ConfigureHeap, V8
 * src/heap/heap.cc), so the cap works through `--semi-space-growth-factor`, which V8 reads at each
 * growth (Heap::ExpandNewSpaceSize). In this folder so it runs under Node.js 20 and under the
 * Lambda's Node.js 24 (test/integration-both.sh): the uncapped case shows the cap is needed there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NEW_SPACE_CAP_MIB } from '../../bin/heap.js';

const HEAP_JS = fileURLToPath(new URL('../../bin/heap.js', import.meta.url));
const MIB = 1024 * 1024;
const major = Number(process.versions.node.split('.')[0]);

/**
 * The largest new space (bytes, `v8.getHeapSpaceStatistics()`) of a child that allocates 3,000,000
 * objects, a share of which survive, yielding to the event loop as a backup's I/O does (the cap
 * acts after each collection, from a `gc` performance entry). The child must also exit by itself:
 * the cap's observer may not hold the process open.
 */
const largestNewSpace = (tune: boolean, execArgv: readonly string[] = []): number => {
  const script = `
    import v8 from 'node:v8';
    import { setImmediate as tick } from 'node:timers/promises';
    import { tuneHeap } from ${JSON.stringify(HEAP_JS)};
    if (${tune}) tuneHeap();
    const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
    const keep = [];
    let largest = 0;
    for (let i = 0; i < 3_000_000; i += 1) {
      if (i % 5000 === 0) { await tick(); largest = Math.max(largest, newSpace()); }
      keep.push({ i, key: 'image/upload/' + i });
      if (i % 500_000 === 0) keep.length = keep.length >> 1;
    }
    process.stdout.write(String(largest));`;
  const r = spawnSync(process.execPath, [...execArgv, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH },
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `child failed or did not exit (signal ${r.signal}): ${r.stderr}`);
  return Number(r.stdout);
};

// V8 grows the new space by doubling, so anything past the cap is the next step, twice the cap;
// a quarter over it leaves room for page rounding (34.75 MiB seen for the 32 MiB cap on Node.js 24).
const CEILING = NEW_SPACE_CAP_MIB * 1.25 * MIB;

test(`tuneHeap keeps the new space within ${NEW_SPACE_CAP_MIB} MiB on ${process.version}`, () => {
  const capped = largestNewSpace(true);
  assert.ok(capped <= CEILING, `new space grew to ${(capped / MIB).toFixed(1)} MiB`);
  // It did grow to the cap (V8 starts it at 1 MiB or so): the cap is a ceiling, not a freeze.
  assert.ok(capped >= (NEW_SPACE_CAP_MIB / 2) * MIB, `new space stayed at ${(capped / MIB).toFixed(1)} MiB`);
});

test('without the cap, Node.js 24 grows the new space past it (why the bin sets one)', { skip: major < 24 && 'Node.js 20 and 22 stop at 32 MiB by themselves' }, () => {
  const uncapped = largestNewSpace(false);
  assert.ok(uncapped > CEILING, `new space grew to only ${(uncapped / MIB).toFixed(1)} MiB`);
});

test("the user's own young-generation size wins over the cap", () => {
  const theirs = largestNewSpace(true, ['--max-semi-space-size=32']);
  assert.ok(theirs > CEILING, `new space grew to only ${(theirs / MIB).toFixed(1)} MiB with --max-semi-space-size=32`);
});
