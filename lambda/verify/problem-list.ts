import type { Problem, ProblemKind } from '../core/verify-check.ts';

/** The order of kinds in a report: the worst first. */
export const PROBLEM_ORDER: readonly ProblemKind[] = ['missing', 'corrupt', 'extra', 'notBackedUp', 'outdated'];

const nameOf = (p: Problem): string => p.key ?? p.publicId ?? '';

/**
 * Sorts one kind's problems by key (or public_id) and keeps the first `limit`. The sort is stable
 * and a list only ever grows at its end, so ties stay in the order found, as in the whole list.
 */
const keepFirst = (list: Problem[], limit: number): void => {
  list.sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
  if (list.length > limit) list.length = limit;
};

/**
 * The problems of one verification, counted exactly, holding only those the report can list
 * (an empty backup of a million-entry catalog has a million missing objects). The
 * report lists the first `limit` by kind (PROBLEM_ORDER), then key or public_id, then the order
 * found; a problem that is not among the first `limit` of its own kind cannot be among them, so
 * each kind keeps its first `limit`, re-sorted whenever twice that many have gathered.
 */
export class ProblemList {
  private readonly counts = new Map<ProblemKind, number>();
  private readonly kept = new Map<ProblemKind, Problem[]>();
  private found = 0;

  constructor(private readonly limit: number) {}

  add(problem: Problem): void {
    this.counts.set(problem.kind, this.count(problem.kind) + 1);
    let list = this.kept.get(problem.kind);
    if (!list) this.kept.set(problem.kind, (list = []));
    list.push(problem);
    this.found += 1;
    if (list.length >= 2 * this.limit) keepFirst(list, this.limit);
  }

  /** Problems of one kind found so far. */
  count(kind: ProblemKind): number {
    return this.counts.get(kind) ?? 0;
  }

  /** Problems of every kind found so far. */
  get total(): number {
    return this.found;
  }

  /** The first `limit` problems in report order. */
  listed(): Problem[] {
    const out: Problem[] = [];
    for (const kind of PROBLEM_ORDER) {
      const list = this.kept.get(kind) ?? [];
      keepFirst(list, this.limit);
      for (const p of list) out.push(p);
    }
    return out.slice(0, this.limit);
  }
}
