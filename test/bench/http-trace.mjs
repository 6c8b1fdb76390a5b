// A per-request timeline of a process's HTTP client, for benchmark 1's per-file comparison
// (bench-timeline.ts): preload with `node --import ./http-trace.mjs ...` and HTTP_TRACE_OUT=FILE.
// Plain JavaScript so it loads into our bundle, a --baseline checkout and the limit copier alike.
//
// A request's record is made when http(s).request/get creates it (wrapped here; named imports of
// node:http see the wrapper through module.syncBuiltinESMExports(), nodejs.org/api/module.html),
// and it is finished from Node's documented diagnostics channel `http.client.request.start`
// (https://nodejs.org/api/diagnostics_channel.html#http), which Node 20 publishes when the
// request has been ended (ClientRequest.prototype._finish in lib/_http_client.js), i.e. after its
// whole body was handed over. Only listeners that never change a stream's flow are added
// ('socket', 'finish', 'response', 'end', 'close'); body chunks are counted by wrapping
// IncomingMessage.prototype.push (what the HTTP parser calls per chunk) and the request body by
// wrapping OutgoingMessage.prototype.write. Times are ms of process.hrtime (CLOCK_MONOTONIC, the
// clock of V8's CPU profiles).
import { subscribe } from 'node:diagnostics_channel';
import http from 'node:http';
import https from 'node:https';
import module from 'node:module';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

const out = process.env.HTTP_TRACE_OUT;
const now = () => Number(process.hrtime.bigint()) / 1e6;
const records = [];
const t0 = now();

/** A new record for `request` (created now unless `created` says otherwise). */
const recordOf = (request, created) => {
  if (request.__trace) return request.__trace;
  const r = {
    method: request.method,
    host: String(request.getHeader('host') ?? request.host),
    path: request.path.replace(/[?].*$/, ''),
    start: created ?? now(),
    firstWrite: undefined,
    writes: 0,
    ended: undefined,
    socket: undefined,
    reused: undefined,
    reqFinish: undefined,
    head: undefined,
    status: undefined,
    firstByte: undefined,
    lastByte: undefined,
    end: undefined,
    close: undefined,
    chunks: 0,
    bytes: 0,
    maxChunk: 0,
  };
  request.__trace = r;
  records.push(r);
  request.once('socket', () => {
    r.socket = now();
  });
  request.once('finish', () => {
    r.reqFinish = now();
    r.reused = request.reusedSocket;
  });
  request.once('response', (res) => {
    r.head = now();
    r.status = res.statusCode;
    r.reused ??= request.reusedSocket;
    res.__trace = r;
    res.once('end', () => {
      r.end = now();
    });
    res.once('close', () => {
      r.close = now();
    });
  });
  return r;
};

if (out) {
  const push = http.IncomingMessage.prototype.push;
  http.IncomingMessage.prototype.push = function (chunk, encoding) {
    const r = this.__trace;
    if (r && chunk !== null) {
      const n = chunk.length ?? 0;
      if (n > 0) {
        r.chunks += 1;
        r.bytes += n;
        r.firstByte ??= now();
        r.lastByte = now();
        r.maxChunk = Math.max(r.maxChunk, n);
      }
    }
    return push.call(this, chunk, encoding);
  };
  const write = http.OutgoingMessage.prototype.write;
  http.OutgoingMessage.prototype.write = function (...args) {
    const r = this.__trace;
    if (r) {
      r.firstWrite ??= now();
      r.writes += 1;
    }
    return write.apply(this, args);
  };
  for (const lib of [http, https]) {
    for (const name of ['request', 'get']) {
      const orig = lib[name];
      lib[name] = function (...args) {
        const created = now();
        const req = orig.apply(this, args);
        recordOf(req, created);
        return req;
      };
    }
  }
  module.syncBuiltinESMExports();

  subscribe('http.client.request.start', ({ request }) => {
    recordOf(request).ended = now();
  });

  // CPU seconds of each thread at exit, by thread name (Linux /proc; proc(5): utime and stime,
  // fields 14 and 15 of /proc/PID/task/TID/stat, in clock ticks of 1/100 s).
  const threads = () => {
    try {
      return readdirSync('/proc/self/task').map((tid) => {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return { tid: Number(tid), name: readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim(), cpu: (Number(f[11]) + Number(f[12])) / 100 };
      });
    } catch {
      return [];
    }
  };
  process.once('exit', () => {
    writeFileSync(out, JSON.stringify({ t0, exit: now(), threads: threads(), records }));
  });
}
