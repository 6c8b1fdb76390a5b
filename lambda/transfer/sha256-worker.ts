import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * The sha256 of one stream of bytes, fed as they pass. `update` returns false when the stream
 * holds as many unhashed bytes as it may: the caller then waits for `ready()` before it takes
 * more (memory stays bounded whatever the hashing's pace). `digest` resolves once every byte given
 * to `update` is hashed. `drop` gives up (the stream failed).
 */
export interface StreamHash {
  update(chunk: Buffer): boolean;
  ready(): Promise<void>;
  digest(): Promise<string>;
  drop(): void;
}

/** Hashing on the calling thread: for inputs whose trip to the worker would cost more than it saves. */
export class InlineHash implements StreamHash {
  private readonly hash = createHash('sha256');
  update(chunk: Buffer): boolean {
    this.hash.update(chunk);
    return true;
  }
  ready(): Promise<void> {
    return Promise.resolve();
  }
  digest(): Promise<string> {
    return Promise.resolve(this.hash.digest('hex'));
  }
  drop(): void {}
}

/** Bytes of a stream's ring: what it may hold unhashed (its memory bound, shared with the worker). */
export const RING_BYTES = 2 * 1024 * 1024;
/**
 * Bytes named to the worker in one message. A message costs ~20 µs of CPU between the threads:
 * at 512 KiB that is ~3% of hashing the batch, and the wait for the last batch's hash at the end
 * of a stream stays under ~0.4 ms.
 */
export const BATCH_BYTES = 512 * 1024;

// The worker's whole program (CommonJS, `eval: true`: the bundle has no separate file to point a
// Worker at). 'open' brings a stream's ring and its counters (SharedArrayBuffers: shared, not
// copied); 'data' names a range of the ring to hash; 'end' answers the digest; 'drop' forgets a
// failed stream. Hashed bytes are counted in counters[0] (the sender reuses the range), and a
// message says so only when the sender waits for room (counters[1] set): no reply per batch.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const streams = new Map();
parentPort.on('message', (m) => {
  if (m.kind === 'open') streams.set(m.id, { ring: new Uint8Array(m.ring), counters: new BigInt64Array(m.counters), hash: createHash('sha256') });
  else if (m.kind === 'data') {
    const s = streams.get(m.id);
    if (s === undefined) return;
    s.hash.update(s.ring.subarray(m.start, m.start + m.length));
    Atomics.add(s.counters, 0, BigInt(m.length));
    if (Atomics.exchange(s.counters, 1, 0n) === 1n) parentPort.postMessage({ id: m.id, room: true });
  } else if (m.kind === 'end') {
    const s = streams.get(m.id);
    streams.delete(m.id);
    if (s !== undefined) parentPort.postMessage({ id: m.id, digest: s.hash.digest('hex') });
  } else streams.delete(m.id);
});
`;

type Message =
  | { readonly kind: 'open'; readonly ring: SharedArrayBuffer; readonly counters: SharedArrayBuffer }
  | { readonly kind: 'data'; readonly start: number; readonly length: number }
  | { readonly kind: 'end' }
  | { readonly kind: 'drop' };

interface Reply {
  readonly id: number;
  readonly room?: boolean;
  readonly digest?: string;
}

/** What the thread calls back on the main thread for one stream. */
interface Listener {
  onRoom(): void;
  onDigest(digest: string): void;
  onFail(err: Error): void;
}

/** A stream's shared memory: its ring, and [bytes hashed, sender waits] as BigInt64 counters. */
interface Ring {
  readonly bytes: SharedArrayBuffer;
  readonly counters: SharedArrayBuffer;
}

/** Rings of finished streams, for the next ones (allocated once, never churned). */
const rings: Ring[] = [];
const RINGS_KEPT = 16;

/**
 * The process's one hashing thread, started by the first stream that needs it. It keeps the
 * process alive only while someone awaits it (see hold). A thread that fails or exits fails every
 * stream it held (their copies are retried from a fresh download like any failed read); the next
 * stream starts a new thread.
 */
class HashThread {
  private readonly worker: Worker;
  private readonly listeners = new Map<number, Listener>();
  private nextId = 1;
  private waits = 0;
  dead: Error | undefined;

  constructor() {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    this.worker.on('message', (r: Reply) => {
      const l = this.listeners.get(r.id);
      if (l === undefined) return;
      if (r.room === true) l.onRoom();
      if (r.digest !== undefined) {
        this.listeners.delete(r.id);
        l.onDigest(r.digest);
      }
    });
    const fail = (err: Error): void => {
      this.dead ??= err;
      for (const l of this.listeners.values()) l.onFail(this.dead);
      this.listeners.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the sha256 thread stopped (exit code ${code})`)));
    // After the listeners: adding a 'message' listener refs the worker again.
    this.worker.unref();
  }

  open(listener: Listener, ring: Ring): number {
    const id = this.nextId;
    this.nextId += 1;
    this.listeners.set(id, listener);
    this.send(id, { kind: 'open', ring: ring.bytes, counters: ring.counters });
    return id;
  }

  send(id: number, message: Message): void {
    this.worker.postMessage({ id, ...message });
    if (message.kind === 'drop') this.listeners.delete(id);
  }

  /**
   * Someone awaits the thread (a stream's ready() or digest()): the process stays alive until the
   * answer. Only then: a stream abandoned without being destroyed must not keep a CLI from exiting.
   */
  hold(): () => void {
    if (this.waits === 0) this.worker.ref();
    this.waits += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.waits -= 1;
      if (this.waits === 0) this.worker.unref();
    };
  }
}

let thread: HashThread | undefined;
const sharedThread = (): HashThread => {
  if (thread === undefined || thread.dead !== undefined) thread = new HashThread();
  return thread;
};

/**
 * Hashing on the process's worker thread (issue 14): the main thread copies each chunk into the
 * stream's ring (a memcpy, ~20x cheaper than hashing it) and names the range to the worker. At
 * one copy in flight the main thread is the link every byte passes through, and sha256 was the
 * largest single cost on it (24-28% of its busy time while copying). The ring is shared memory
 * reused stream after stream: no buffer is allocated or moved per batch (moving ArrayBuffers to
 * the worker and back made V8 collect garbage for their external memory, measured).
 */
export class WorkerHash implements StreamHash {
  private readonly thread = sharedThread();
  private readonly ring: Ring;
  private readonly view: Buffer;
  private readonly counters: BigInt64Array;
  private readonly id: number;
  /** Bytes written into the ring / named to the worker, since the stream began. */
  private written = 0;
  private sent = 0;
  /** The part of a chunk that did not fit in the ring yet. */
  private backlog: Buffer | undefined;
  private failed: Error | undefined;
  private finished = false;
  private waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private result: Promise<string> | undefined;
  private settle: { resolve: (d: string) => void; reject: (err: Error) => void } | undefined;

  constructor() {
    this.ring = rings.pop() ?? { bytes: new SharedArrayBuffer(RING_BYTES), counters: new SharedArrayBuffer(16) };
    this.view = Buffer.from(this.ring.bytes);
    this.counters = new BigInt64Array(this.ring.counters);
    this.counters[0] = 0n;
    this.counters[1] = 0n;
    this.id = this.thread.open(
      {
        onRoom: () => {
          if (this.backlog !== undefined) this.take(this.backlog);
          if (this.backlog === undefined) this.wake();
        },
        onDigest: (d) => {
          this.release();
          this.settle?.resolve(d);
        },
        onFail: (err) => this.fail(err),
      },
      this.ring,
    );
  }

  update(chunk: Buffer): boolean {
    if (this.failed !== undefined) return false;
    if (this.backlog !== undefined) throw new Error('WorkerHash.update called before ready()');
    this.take(chunk);
    return this.backlog === undefined;
  }

  ready(): Promise<void> {
    if (this.failed !== undefined) return Promise.reject(this.failed);
    if (this.backlog === undefined) return Promise.resolve();
    const release = this.thread.hold();
    return new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject })).finally(release);
  }

  digest(): Promise<string> {
    if (this.result === undefined) {
      const release = this.thread.hold();
      this.result = new Promise<string>((resolve, reject) => {
        this.settle = { resolve, reject };
      }).finally(release);
      if (this.failed !== undefined) this.settle?.reject(this.failed);
      else if (this.backlog !== undefined) this.settle?.reject(new Error('WorkerHash.digest called before ready()'));
      else {
        this.send();
        this.thread.send(this.id, { kind: 'end' });
      }
    }
    return this.result;
  }

  drop(): void {
    if (this.failed !== undefined || this.result !== undefined || this.finished) return;
    this.finished = true;
    this.thread.send(this.id, { kind: 'drop' });
    // The worker may still read ranges of this ring: it is not reused.
  }

  /** Copies as much of `chunk` as the ring has room for; the rest waits in the backlog. */
  private take(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      let free = RING_BYTES - (this.written - this.hashed());
      if (free === 0) {
        // Ask the worker to say when it hashed more, then look again: it may have just done so.
        Atomics.store(this.counters, 1, 1n);
        free = RING_BYTES - (this.written - this.hashed());
        if (free === 0) break;
      }
      const start = this.written % RING_BYTES;
      const n = Math.min(chunk.length - at, free, RING_BYTES - start);
      chunk.copy(this.view, start, at, at + n);
      this.written += n;
      at += n;
      if (this.written - this.sent >= BATCH_BYTES || start + n === RING_BYTES) this.send();
    }
    this.backlog = at < chunk.length ? chunk.subarray(at) : undefined;
  }

  private hashed(): number {
    return Number(Atomics.load(this.counters, 0));
  }

  /** Names the written, unsent bytes to the worker (one range: the ring wraps at a send). */
  private send(): void {
    const length = this.written - this.sent;
    if (length === 0) return;
    this.thread.send(this.id, { kind: 'data', start: this.sent % RING_BYTES, length });
    this.sent = this.written;
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.resolve();
  }

  /** The stream is done with its ring: the next stream may take it. */
  private release(): void {
    if (this.finished) return;
    this.finished = true;
    if (rings.length < RINGS_KEPT) rings.push(this.ring);
  }

  private fail(err: Error): void {
    this.failed ??= err;
    this.finished = true;
    const w = this.waiters;
    this.waiters = [];
    for (const x of w) x.reject(err);
    this.settle?.reject(err);
  }
}
