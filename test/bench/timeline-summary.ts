// Summary of one http-trace.mjs file (bench-timeline.ts): each asset's GET matched with its PUT by
// file name, and where the process's time went between its start and its exit.

/** One HTTP request as http-trace.mjs recorded it (ms on the process's monotonic clock). */
export interface TraceRecord {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  /** When http(s).request/get created the request. */
  readonly start: number;
  readonly firstWrite?: number;
  readonly writes?: number;
  /** When the request was ended (its whole body handed to Node). */
  readonly ended?: number;
  readonly socket?: number;
  readonly reused?: boolean;
  readonly reqFinish?: number;
  readonly head?: number;
  readonly status?: number;
  readonly firstByte?: number;
  readonly lastByte?: number;
  readonly end?: number;
  readonly close?: number;
  readonly chunks: number;
  readonly bytes: number;
  readonly maxChunk: number;
}

/** A whole trace file. */
export interface TraceFile {
  readonly t0: number;
  readonly exit: number;
  /** CPU seconds of each thread at exit (Linux). */
  readonly threads?: readonly { readonly tid: number; readonly name: string; readonly cpu: number }[];
  readonly records: readonly TraceRecord[];
}

/** One asset's GET and PUT. */
export interface FileTimeline {
  readonly name: string;
  readonly get: TraceRecord;
  readonly put: TraceRecord;
}

const ASSET_PUT = /^\/[^/]+\/[^/]+\/(image|video|raw)\/upload\//;
const base = (p: string): string => decodeURIComponent(p.slice(p.lastIndexOf('/') + 1));
const ms = (x: number): string => `${Math.round(x)} ms`;

/** The asset copies of a trace (GET and PUT paired by file name), in the order their GETs started. */
export const fileTimelines = (t: TraceFile, s3Endpoint: string): { files: FileTimeline[]; other: TraceRecord[] } => {
  const s3Host = new URL(s3Endpoint).host;
  const puts = new Map<string, TraceRecord>();
  for (const r of t.records) if (r.method === 'PUT' && r.host === s3Host && ASSET_PUT.test(r.path)) puts.set(base(r.path), r);
  const files: FileTimeline[] = [];
  const other: TraceRecord[] = [];
  for (const r of t.records) {
    const put = r.method === 'GET' && r.host !== s3Host ? puts.get(base(r.path)) : undefined;
    if (put) files.push({ name: base(r.path), get: r, put });
    else if (!(r.method === 'PUT' && puts.get(base(r.path)) === r)) other.push(r);
  }
  files.sort((a, b) => a.get.start - b.get.start);
  return { files, other };
};

/** One line per file of `files[from, to)`: each event in ms after the file's GET was created. */
export const fileLines = (files: readonly FileTimeline[], from: number, to: number): string =>
  files
    .slice(from, to)
    .map((f, i) => {
      const g = f.get;
      const p = f.put;
      const at = (x: number | undefined): string => (x === undefined ? '-' : (x - g.start).toFixed(2));
      const prev = files[from + i - 1];
      const gap = prev ? (g.start - (prev.put.end ?? prev.put.close ?? prev.put.head ?? 0)).toFixed(2) : '-';
      return `${f.name} ${g.bytes}B gap ${gap} | get head ${at(g.head)} first ${at(g.firstByte)} last ${at(g.lastByte)} end ${at(g.end)} | put created ${at(p.start)} write1 ${at(p.firstWrite)} ended ${at(p.ended)} flushed ${at(p.reqFinish)} answer ${at(p.head)} done ${at(p.end)}`;
    })
    .join('\n');

/** Sum of f over the files where it is defined. */
const sum = (files: readonly FileTimeline[], f: (x: FileTimeline) => number | undefined): number =>
  files.reduce((a, x) => a + (f(x) ?? 0), 0);

/** A text report of one trace: the phases of the copies summed, the gaps, the other requests. */
export const summarizeTrace = (t: TraceFile, s3Endpoint: string): string => {
  const { files, other } = fileTimelines(t, s3Endpoint);
  if (files.length === 0) return 'no asset copies found in the trace';
  const first = files[0] as FileTimeline;
  const last = files.reduce((a, f) => ((f.put.close ?? f.put.end ?? 0) > (a.put.close ?? a.put.end ?? 0) ? f : a));
  const doneOf = (f: FileTimeline): number => f.put.end ?? f.put.close ?? f.put.head ?? f.put.start;
  // Gaps: from one copy's PUT answer to the next copy's GET (meaningful at 1 in flight).
  let gaps = 0;
  let maxGap = 0;
  for (let i = 1; i < files.length; i += 1) {
    const g = (files[i] as FileTimeline).get.start - doneOf(files[i - 1] as FileTimeline);
    gaps += Math.max(0, g);
    maxGap = Math.max(maxGap, g);
  }
  const getChunks = sum(files, (f) => f.get.chunks);
  const getBytes = sum(files, (f) => f.get.bytes);
  const lines = [
    `process: ${ms(t.exit - t.t0)} from the trace's load to exit; first asset GET at +${ms(first.get.start - t.t0)}; last PUT answered at +${ms(doneOf(last) - t.t0)}; exit ${ms(t.exit - doneOf(last))} after it`,
    `copies: ${files.length}; span first GET -> last PUT answer ${ms(doneOf(last) - first.get.start)}`,
    `  GET sent -> answer head      ${ms(sum(files, (f) => (f.get.head ?? f.get.start) - f.get.start))}`,
    `  GET head -> first body byte  ${ms(sum(files, (f) => (f.get.firstByte ?? f.get.head ?? 0) - (f.get.head ?? 0)))}`,
    `  GET first -> last body byte  ${ms(sum(files, (f) => (f.get.lastByte ?? 0) - (f.get.firstByte ?? 0)))}`,
    `  GET head -> PUT created      ${ms(sum(files, (f) => f.put.start - (f.get.head ?? f.put.start)))}`,
    `  last byte read -> PUT ended  ${ms(sum(files, (f) => (f.put.ended ?? 0) - (f.get.lastByte ?? 0)))}`,
    `  PUT ended -> body flushed    ${ms(sum(files, (f) => (f.put.reqFinish ?? 0) - (f.put.ended ?? 0)))}`,
    `  PUT flushed -> PUT answer    ${ms(sum(files, (f) => (f.put.head ?? 0) - (f.put.reqFinish ?? 0)))}`,
    `  PUT answer -> done           ${ms(sum(files, (f) => doneOf(f) - (f.put.head ?? doneOf(f))))}`,
    `  gaps PUT done -> next GET    ${ms(gaps)} (largest ${ms(maxGap)})`,
    `  GET body: ${getChunks} chunks, ${Math.round(getBytes / Math.max(1, getChunks) / 1024)} KiB average; sockets reused: GET ${files.filter((f) => f.get.reused).length}, PUT ${files.filter((f) => f.put.reused).length} of ${files.length}`,
    `threads' CPU s: ${(t.threads ?? []).filter((x) => x.cpu > 0).map((x) => `${x.name} ${x.cpu.toFixed(2)}`).join(', ')}`,
    `other requests: ${other.length} (${[...new Set(other.map((r) => `${r.method} ${r.path.split('/').slice(0, 4).join('/')}`))].slice(0, 12).join('; ')})`,
  ];
  return lines.join('\n');
};

const median = (xs: readonly number[]): number => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
};

/** The figures of one trace as numbers (ms), for a results file: totals over the copies and per-file medians. */
export const tracePhases = (t: TraceFile, s3Endpoint: string): Record<string, number> => {
  const { files, other } = fileTimelines(t, s3Endpoint);
  const doneOf = (f: FileTimeline): number => f.put.end ?? f.put.close ?? f.put.head ?? f.put.start;
  const first = files[0] as FileTimeline;
  const lastDone = Math.max(...files.map(doneOf));
  const gaps = files.slice(1).map((f, i) => f.get.start - doneOf(files[i] as FileTimeline));
  const small = files.filter((f) => f.get.bytes < 1024 * 1024);
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  const row: Record<string, number> = {
    copies: files.length,
    otherRequests: other.length,
    firstAssetGetMs: t.records.length ? first.get.start - t.t0 : Number.NaN,
    spanFirstGetToLastPutMs: lastDone - first.get.start,
    exitAfterLastPutMs: t.exit - lastDone,
    sumGetBodyMs: sum(files, (f) => (f.get.lastByte ?? 0) - (f.get.firstByte ?? 0)),
    sumGapsMs: gaps.reduce((a, g) => a + Math.max(0, g), 0),
    perFileGapMs: median(gaps),
    perFileGetHeadToPutCreatedMs: median(files.map((f) => f.put.start - (f.get.head ?? Number.NaN))),
    perFileLastByteToGetEndMs: median(files.map((f) => (f.get.end ?? Number.NaN) - (f.get.lastByte ?? Number.NaN))),
    perFileGetEndToPutEndedMs: median(files.map((f) => (f.put.ended ?? Number.NaN) - (f.get.end ?? Number.NaN))),
    perFilePutFlushedToAnswerMs: median(files.map((f) => (f.put.head ?? Number.NaN) - (f.put.reqFinish ?? Number.NaN))),
    perSmallFileTotalMs: median(small.map((f) => doneOf(f) - f.get.start)),
    getChunks: sum(files, (f) => f.get.chunks),
  };
  for (const th of t.threads ?? []) if (th.cpu > 0) row[`cpuS_thread_${th.tid === Math.min(...(t.threads ?? []).map((x) => x.tid)) ? 'main' : th.name + '_' + th.tid}`] = th.cpu;
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, r2(v)]));
};

/** Medians over runs of each numeric figure (keys present in every run). */
export const medians = (rows: readonly Record<string, number>[]): Record<string, number> => {
  const keys = Object.keys(rows[0] ?? {}).filter((k) => rows.every((r) => k in r));
  return Object.fromEntries(keys.map((k) => [k, Math.round(median(rows.map((r) => r[k] as number)) * 100) / 100]));
};
