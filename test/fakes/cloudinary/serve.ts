/**
 * Streams an asset's bytes for delivery and the signed download, with backpressure, counting
 * every body byte (stats and usage bandwidth), and applies any armed download fault.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { HttpError, drained, endSocket } from '../http-util.ts';
import type { FakeContext } from './context.ts';
import { reencoded } from './delivery-rules.ts';
import type { DownloadFault } from './download-faults.ts';
import type { FakeAsset } from './types.ts';

const MIME: Record<string, string> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp',
  avif: 'image/avif', svg: 'image/svg+xml', pdf: 'application/pdf', mp4: 'video/mp4',
  mov: 'video/quicktime', webm: 'video/webm', mp3: 'audio/mpeg', txt: 'text/plain', json: 'application/json',
};

/** Streams an asset's served bytes (re-encoded when `optimized`), applying any armed download fault. */
export async function serve(
  ctx: FakeContext,
  req: IncomingMessage,
  res: ServerResponse,
  asset: FakeAsset,
  extra: Record<string, string>,
  optimized = false,
): Promise<void> {
  const chunksOf = (): Iterable<Buffer> => (optimized ? reencoded(ctx.store.contentChunks(asset)) : ctx.store.contentChunks(asset));
  let size = ctx.store.servedSize(asset);
  if (optimized) {
    size = 0;
    for (const c of chunksOf()) size += c.length;
  }
  const fault = req.method === 'HEAD' ? undefined : ctx.downloadFaults.take(asset.publicId, size);
  if (fault?.kind === 'fail') throw new HttpError(fault.status ?? 500, `Injected download failure (${fault.status})`);
  if (fault?.kind === 'redirect') {
    res.writeHead(302, { Location: fault.location ?? '/', 'Content-Length': '0' });
    res.end();
    return;
  }
  const headers: Record<string, string> = {
    'Content-Type': MIME[asset.format.toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(size),
    ETag: `"${asset.assetId}-${asset.generation}"`,
    'Last-Modified': new Date(asset.version * 1000).toUTCString(),
    ...extra,
  };
  if (req.method === 'HEAD') {
    res.writeHead(200, headers);
    res.end();
    return;
  }
  ctx.stats().downloads += 1;
  if (fault) {
    await serveFaulted(ctx, res, fault, headers, chunksOf, size);
    return;
  }
  res.writeHead(200, headers);
  await pump(ctx, res, chunksOf(), size);
  if (!res.destroyed) res.end();
}

/** A download with a stall, overlong or cut/reset fault armed. */
async function serveFaulted(
  ctx: FakeContext,
  res: ServerResponse,
  fault: DownloadFault,
  headers: Record<string, string>,
  chunksOf: () => Iterable<Buffer>,
  size: number,
): Promise<void> {
  if (fault.kind === 'stall') {
    res.writeHead(200, headers);
    res.flushHeaders();
    if (fault.afterBytes) await pump(ctx, res, chunksOf(), Math.min(fault.afterBytes, size));
    ctx.stalled.add(res);
    res.on('close', () => ctx.stalled.delete(res));
    return;
  }
  if (fault.kind === 'overlong' && fault.chunked) {
    const { 'Content-Length': _announced, ...unannounced } = headers;
    res.writeHead(200, unannounced);
    await pump(ctx, res, chunksOf(), size);
    const extraBytes = Buffer.alloc(fault.extraBytes ?? 1024, 0x5a);
    if (!res.destroyed) res.write(extraBytes);
    count(ctx, extraBytes.length);
    if (!res.destroyed) res.end();
    return;
  }
  // cut, overlong, reset. Raw socket: full Content-Length promised, then fewer (cut) or more (overlong) bytes.
  const socket = res.socket;
  if (!socket) return;
  const head = [`HTTP/1.1 200 OK`, ...Object.entries({ ...headers, Connection: 'close' }).map(([k, v]) => `${k}: ${v}`)];
  socket.write(`${head.join('\r\n')}\r\n\r\n`);
  const limit = fault.kind === 'overlong' ? size : Math.min(fault.afterBytes ?? 0, size);
  await pump(ctx, socket, chunksOf(), limit);
  if (fault.kind === 'reset') {
    // Let the bytes leave first, then RST instead of FIN: the client sees ECONNRESET.
    await new Promise((r) => setTimeout(r, 20));
    socket.resetAndDestroy();
    return;
  }
  if (fault.kind === 'overlong' && !socket.destroyed) {
    const extraBytes = Buffer.alloc(fault.extraBytes ?? 1024, 0x5a);
    socket.write(extraBytes);
    count(ctx, extraBytes.length);
  }
  await endSocket(socket);
}

/** Writes up to `limit` bytes with backpressure; returns the bytes written. */
async function pump(ctx: FakeContext, out: Socket | ServerResponse, chunks: Iterable<Buffer>, limit: number): Promise<number> {
  let sent = 0;
  for (const chunk of chunks) {
    if (sent >= limit || out.destroyed) break;
    const piece = chunk.length > limit - sent ? chunk.subarray(0, limit - sent) : chunk;
    sent += piece.length;
    count(ctx, piece.length);
    if (!out.write(piece)) await drained(out);
  }
  return sent;
}

/** Body bytes sent: the download counter and the usage report's bandwidth. */
function count(ctx: FakeContext, bytes: number): void {
  ctx.stats().downloadBytes += bytes;
  ctx.usage.addDelivered(bytes);
}
