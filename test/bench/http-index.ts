import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { CloudinaryFake, FakeAsset } from '../fakes/cloudinary-fake.ts';
import { drained } from '../fakes/http-util.ts';

/** A running directory index of a fake account. */
export interface HttpIndex {
  /** `http://127.0.0.1:PORT/` — what rclone's http backend takes as its URL. */
  readonly url: string;
  /** Body bytes served (proves the peer downloaded everything once). */
  readonly servedBytes: () => number;
  /** Every file of the index: its path under `url` (unencoded) and its size. */
  readonly files: () => Array<[string, number]>;
  stop(): Promise<void>;
}

const escapeHtml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A folder of the index: sub-folders and files by name. */
interface Folder {
  readonly dirs: Map<string, Folder>;
  readonly files: Map<string, FakeAsset>;
}

const newFolder = (): Folder => ({ dirs: new Map(), files: new Map() });

/**
 * Serves a fake account's public originals as an Apache-style directory index
 * (`<resource_type>/<type>/<public_id>.<format>`, the key layout of our backup) for a peer
 * that copies from HTTP, such as `rclone copy` with its http backend. The bytes are the
 * fake's own (its deterministic generator, same size and Last-Modified as its delivery URLs),
 * written from this process like the fake writes them, so the peer pays no extra hop.
 */
export const startHttpIndex = async (fake: CloudinaryFake): Promise<HttpIndex> => {
  const root = newFolder();
  for (const a of fake.listAssets()) {
    if (a.type !== 'upload') continue;
    const parts = [a.resourceType, a.type, ...`${a.publicId}${a.format ? `.${a.format}` : ''}`.split('/')];
    const name = parts.pop() as string;
    let folder = root;
    for (const p of parts) {
      let next = folder.dirs.get(p);
      if (!next) folder.dirs.set(p, (next = newFolder()));
      folder = next;
    }
    folder.files.set(name, a);
  }
  const files: Array<[string, number]> = fake
    .listAssets()
    .filter((a) => a.type === 'upload')
    .map((a) => [`${a.resourceType}/${a.type}/${a.publicId}${a.format ? `.${a.format}` : ''}`, fake.servedSize(a)]);
  let served = 0;
  const sockets = new Set<Socket>();

  const find = (segments: string[]): Folder | FakeAsset | undefined => {
    let folder = root;
    for (let i = 0; i < segments.length; i += 1) {
      const seg = segments[i] as string;
      if (seg === '' && i === segments.length - 1) return folder;
      const dir = folder.dirs.get(seg);
      if (dir) folder = dir;
      else return i === segments.length - 1 ? folder.files.get(seg) : undefined;
    }
    return folder;
  };

  const listing = (pathname: string, folder: Folder): string => {
    const rows = [
      ...[...folder.dirs.keys()].sort().map((d) => `<li><a href="${escapeHtml(encodeURIComponent(d))}/">${escapeHtml(d)}/</a></li>`),
      ...[...folder.files.keys()].sort().map((f) => `<li><a href="${escapeHtml(encodeURIComponent(f))}">${escapeHtml(f)}</a></li>`),
    ];
    return `<!DOCTYPE html>\n<html><head><title>Index of ${escapeHtml(pathname)}</title></head><body><h1>Index of ${escapeHtml(pathname)}</h1><ul>\n${rows.join('\n')}\n</ul></body></html>\n`;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://index.invalid');
    const segments = url.pathname.split('/').slice(1).map((s) => decodeURIComponent(s));
    const found = find(segments);
    if (found === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    if ('dirs' in found) {
      if (!url.pathname.endsWith('/')) {
        res.writeHead(301, { Location: `${url.pathname}/` }).end();
        return;
      }
      const body = Buffer.from(listing(url.pathname, found), 'utf8');
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': String(body.length) });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(fake.servedSize(found)),
      'Last-Modified': new Date(found.version * 1000).toUTCString(),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    for (const chunk of fake.contentChunks(found)) {
      if (res.destroyed) return;
      served += chunk.length;
      if (!res.write(chunk)) await drained(res);
    }
    res.end();
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('index server has no port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    servedBytes: () => served,
    files: () => files,
    stop: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
};
