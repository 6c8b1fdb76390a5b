import type { RunReport } from '../backup/engine.ts';
import { reportsRoot } from '../core/keys.ts';
import type { Destination } from '../ports/storage.ts';
import { readJson } from './read-json.ts';

/**
 * The newest `limit` run reports under `<prefix>/_reports/`, oldest first. Report keys are
 * `<runId>.json` and a run id starts with its ISO start time, so key order is time order;
 * the progress objects in `progress/` are not reports and are skipped.
 */
export const latestReports = async (destination: Destination, prefix: string, limit: number): Promise<RunReport[]> => {
  const root = `${reportsRoot(prefix)}/`;
  const keys: string[] = [];
  for await (const o of destination.list(root)) {
    const rest = o.key.slice(root.length);
    if (o.key.startsWith(root) && !rest.includes('/') && rest.endsWith('.json')) keys.push(o.key);
  }
  keys.sort();
  const out: RunReport[] = [];
  for (const key of keys.slice(Math.max(0, keys.length - limit))) {
    const r = await readJson<RunReport>(destination, key);
    if (r) out.push(r);
  }
  return out;
};

/** One run's report, or undefined when it has not been written. */
export const reportOf = (destination: Destination, prefix: string, runId: string): Promise<RunReport | undefined> =>
  readJson<RunReport>(destination, `${reportsRoot(prefix)}/${runId}.json`);
