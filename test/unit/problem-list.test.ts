/**
 * ProblemList (lambda/verify/problem-list.ts) holds only the problems a verify report can list.
 * What it lists must be exactly what sorting the whole list did before: by kind
 * (missing, corrupt, extra, notBackedUp, outdated), then key or public_id (localeCompare), ties
 * in the order found (Array.prototype.sort is stable, ECMA-262 2019 onwards), the first `limit`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Problem, ProblemKind } from '../../lambda/core/verify-check.ts';
import { PROBLEM_ORDER, ProblemList } from '../../lambda/verify/problem-list.ts';

/** The old rule: every problem held, sorted once, the first `limit` listed. */
const wholeSort = (problems: readonly Problem[], limit: number): Problem[] =>
  [...problems]
    .sort((a, b) => PROBLEM_ORDER.indexOf(a.kind) - PROBLEM_ORDER.indexOf(b.kind) || (a.key ?? a.publicId ?? '').localeCompare(b.key ?? b.publicId ?? ''))
    .slice(0, limit);

/** A deterministic pseudo-random sequence (the same problems every run). */
const lcg = (seed: number) => () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

test('the listed problems are those the whole sorted list began with, the counts exact, for many orders of arrival', () => {
  const names = ['a', 'B', 'b', 'é', 'e', '\uFF61', '\u{1F600}', 'z', 'Z', '10', '9'];
  for (let seed = 1; seed <= 40; seed += 1) {
    const rnd = lcg(seed);
    const limit = 1 + Math.floor(rnd() * 6);
    const problems: Problem[] = Array.from({ length: 5 + Math.floor(rnd() * 60) }, (_, i) => {
      const kind = PROBLEM_ORDER[Math.floor(rnd() * PROBLEM_ORDER.length)] as ProblemKind;
      const name = names[Math.floor(rnd() * names.length)] as string;
      // notBackedUp problems name a public_id only; the others a key. `detail` tells ties apart.
      return kind === 'notBackedUp' ? { kind, publicId: name, detail: `#${i}` } : { kind, key: name, detail: `#${i}` };
    });
    const list = new ProblemList(limit);
    for (const p of problems) list.add(p);
    assert.deepEqual(list.listed(), wholeSort(problems, limit), `seed ${seed}`);
    assert.equal(list.total, problems.length);
    for (const kind of PROBLEM_ORDER) assert.equal(list.count(kind), problems.filter((p) => p.kind === kind).length);
  }
});
