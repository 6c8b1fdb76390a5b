// Supplement of a bench-timeline.ts run, from its trace files (DIR/*.trace.json): keep-alive reuse, chunk sizes,
// the requests besides the copies, and the copies by size class. Usage: node --import tsx test/bench/timeline-classes.ts DIR OUT.json
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileTimelines } from './timeline-summary.ts';
import type { TraceFile } from './timeline-summary.ts';
const dir = process.argv[2] as string;
const out: Record<string, unknown[]> = {};
for (const f of readdirSync(dir).filter((x) => x.endsWith('.trace.json')).sort()) {
  const t = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as TraceFile;
  const s3 = t.records.find((r) => r.method === 'PUT')?.host ?? '';
  const { files, other } = fileTimelines(t, `http://${s3}`);
  const cls = (lo: number, hi: number) => {
    const xs = files.filter((x) => x.get.bytes >= lo && x.get.bytes < hi);
    const read = xs.reduce((a, x) => a + (x.get.lastByte! - x.get.firstByte!), 0);
    const bytes = xs.reduce((a, x) => a + x.get.bytes, 0);
    const total = xs.reduce((a, x) => a + ((x.put.end ?? x.put.close ?? x.put.head!) - x.get.start), 0);
    return { files: xs.length, mib: Math.round(bytes / 2 ** 20), sumReadMs: Math.round(read), readMBps: Math.round(bytes / 1e6 / (read / 1000)), sumPerFileTotalMs: Math.round(total) };
  };
  const tool = f.replace(/-c1-run\d+\.trace\.json$/, '');
  (out[tool] ??= []).push({
    run: Number(/run(\d+)/.exec(f)![1]),
    getSocketsReused: files.filter((x) => x.get.reused).length,
    putSocketsReused: files.filter((x) => x.put.reused).length,
    copies: files.length,
    getChunks: files.reduce((a, x) => a + x.get.chunks, 0),
    getAverageChunkKiB: Math.round(files.reduce((a, x) => a + x.get.bytes, 0) / files.reduce((a, x) => a + x.get.chunks, 0) / 1024),
    otherRequests: other.map((r: { method: string; path: string }) => `${r.method} ${r.path.replace(/\/[^/]*\.json(l)?$/, '/…').replace(/_reports\/.*/, '_reports/…')}`),
    under1MiB: cls(0, 2 ** 20),
    from1to8MiB: cls(2 ** 20, 8 * 2 ** 20),
    from8MiB: cls(8 * 2 ** 20, Infinity),
  });
}
writeFileSync(process.argv[3] as string, `${JSON.stringify({
  what: 'Supplement to timeline-inflight1-vs-bb0325c.json, derived from the same runs\' traces (/tmp/tl12, not committed: 15 files, 160 records each): keep-alive reuse, the download\'s chunk sizes, the requests besides the copies, and the copies by size class (sum of GET first->last body byte, its rate, and the sum of each file\'s GET created -> PUT answered).',
  command: 'node --import tsx test/bench/timeline-classes.ts /tmp/tl12 OUT',
  source: 'test/bench/results/timeline-inflight1-vs-bb0325c.json (commit 08ef528, medians of 5, load 1.91 -> 3.04, Node v20.20.2, WHEN_REQUIRED)',
  generatedAt: new Date().toISOString(),
  tools: out,
}, null, 1)}\n`);
