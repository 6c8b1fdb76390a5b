/**
 * bin/heap.js: the command line bounds V8's old-generation growing factor once the live
 * heap is large, so a large no-change night's garbage stays a share of its live heap, and leaves
 * V8's own factor to small heaps (a copy's CPU); no heap limit is set. The
 * flag is read by V8 whenever it sets the next limit (MemoryController::GrowingFactor, V8
 * src/heap/heap-controller.cc); Node.js keeps V8's flags writable after start (src/node.cc:
 * `--no-freeze-flags-after-init`, "Node provides a v8.setFlagsFromString method").
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HEAP_GROWING_PERCENT, LARGE_HEAP_MIB, capsNewSpace, setsGrowingFactor } from '../../bin/heap.js';

const HEAP_JS = fileURLToPath(new URL('../../bin/heap.js', import.meta.url));

describe('setsGrowingFactor', () => {
  const cases: ReadonlyArray<readonly [string, readonly string[], string | undefined, boolean]> = [
    ['no flags of the user', [], undefined, true],
    ['an old-space limit of the user: the factor still applies beneath it', ['--max-old-space-size=384'], undefined, true],
    ['the user chose the factor on the command line', ['--heap-growing-percent=200'], undefined, false],
    ['the user chose it in NODE_OPTIONS (Node.js refuses that today; read all the same)', [], '--enable-source-maps --heap-growing-percent=10', false],
    ['written with underscores, as V8 also accepts', ['--heap_growing_percent=10'], undefined, false],
    ['a flag that only starts alike is not the factor', ['--heap-growing-percentage-x'], '', true],
  ];
  for (const [name, execArgv, nodeOptions, expected] of cases) test(name, () => assert.equal(setsGrowingFactor(execArgv, nodeOptions), expected));
});

describe('capsNewSpace (the cap itself is tested under Node.js 20 and 24 in test/integration/cli-new-space.test.ts)', () => {
  const cases: ReadonlyArray<readonly [string, readonly string[], string | undefined, boolean]> = [
    ['no flags of the user', [], undefined, true],
    ['an old-space limit or growing factor of the user: the young generation is still capped', ['--max-old-space-size=384'], '--heap-growing-percent=50', true],
    ['the user set the semi-space limit on the command line', ['--max-semi-space-size=64'], undefined, false],
    ['in NODE_OPTIONS, with underscores', [], '--enable-source-maps --max_semi_space_size=8', false],
    ['the user set the semi-space minimum', ['--min-semi-space-size=4'], '', false],
    ['the user set the growth factor', [], '--semi-space-growth-factor=4', false],
    ['the user sized the whole heap', ['--max-heap-size=2048'], undefined, false],
  ];
  for (const [name, execArgv, nodeOptions, expected] of cases) test(name, () => assert.equal(capsNewSpace(execArgv, nodeOptions), expected));
});

test(`tuneHeap sets the factor once the live heap reaches ${LARGE_HEAP_MIB} MiB, V8 uses it, and it is taken back below`, () => {
  // setFlagsFromString is looked up on node:v8 at each call (heap.js), so the child records them.
  const script = `
    import v8 from 'node:v8';
    import { setImmediate as turn } from 'node:timers/promises';
    import { tuneHeap } from ${JSON.stringify(HEAP_JS)};
    let phase = 'small';
    const calls = [];
    const set = v8.setFlagsFromString;
    v8.setFlagsFromString = (flag) => { if (flag.includes('growing-percent')) calls.push(phase + ' ' + flag); set(flag); };
    const mark = (p) => { phase = p; process.stdout.write('@@ ' + p + '\\n'); };
    const settle = async () => { globalThis.gc(); await turn(); await turn(); };
    tuneHeap();
    const small = [];
    for (let i = 0; i < 100000; i += 1) small.push({ i });
    await settle();
    mark('large');
    const keep = [];
    for (let i = 0; i < 1500000; i += 1) keep.push({ i, s: 'image/upload/' + i });
    await settle();
    mark('factor');
    globalThis.gc();
    mark('dropped');
    keep.length = 0;
    await settle();
    process.stdout.write('@@ calls ' + JSON.stringify(calls) + '\\n');`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--trace-gc-verbose', '--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  assert.equal(r.status, 0, r.stderr);
  const calls = JSON.parse(/^@@ calls (.*)$/m.exec(r.stdout)?.[1] ?? 'null') as string[];
  assert.deepEqual(calls, [`large --heap-growing-percent=${HEAP_GROWING_PERCENT}`, 'dropped --heap-growing-percent=0']);
  // The full collection after the flag was set ("factor" phase) used it. V8 11 (Node 20) prints the
  // factor used at the end of "[HeapController] Limit: old size: 6645 KB, new limit: 18864 KB (1.5)"
  // (its "factor ... based on" line comes before the flag applies); later V8 (heap-controller.cc
  // as in Node 24) prints "[HeapController] factor 1.5 based on ..." once the flag applied.
  const phase = r.stdout.slice(r.stdout.indexOf('@@ factor'), r.stdout.indexOf('@@ dropped'));
  const limits = [...phase.matchAll(/\[HeapController\] Limit: .*\(([\d.]+)\)$/gm)];
  const traced = limits.length > 0 ? limits : [...phase.matchAll(/\[HeapController\] factor ([\d.]+) based on/g)];
  const factors = traced.map((m) => Number(m[1]));
  assert.ok(factors.length > 0, `no limit traced:\n${phase.slice(-2000)}`);
  assert.deepEqual(new Set(factors), new Set([1 + HEAP_GROWING_PERCENT / 100]));
});
