/**
 * An HTTP fake of the Cloudinary APIs the backup uses, for integration tests driven through
 * the real `cloudinary` SDK (point the SDK at it with `CLOUDINARY_URL = fake.cloudinaryUrl`
 * before the SDK is first imported).
 *
 * Served on one loopback origin (one file per endpoint family in this folder):
 *   GET  /v1_1/:cloud/resources/:resource_type[/:type]        Admin listing (paged, rate-limited)   listing.ts
 *   GET  /v1_1/:cloud/resources/:resource_type/:type/:public_id  Admin resource details, POST update resources.ts
 *   GET  /v1_1/:cloud/usage[/:date]                            Admin usage report                   usage.ts
 *   GET  /v1_1/:cloud/metadata_fields, POST (JSON)             structured metadata field definitions metadata-fields.ts
 *   GET  /v1_1/:cloud/:resource_type/download?...              signed download (private_download_url) download.ts
 *   POST /v1_1/:cloud/:resource_type/upload                    Upload API (multipart, chunked)      upload.ts, upload-rules.ts
 *   GET  /:cloud/:resource_type/:type/[s--SIG--/][fl_original/][v123/]:public_id.:fmt
 *                                                               delivery (what secure_url points at), signed URLs,
 *                                                               strict transformations   delivery.ts, delivery-rules.ts,
 *                                                                                        delivery-signature.ts
 * Shared: the router (router.ts), Admin API auth and rate limit (admin.ts, auth.ts,
 * rate-limit.ts), the asset store (store.ts), streaming and download faults (serve.ts,
 * download-faults.ts), the account's state and test controls (account.ts).
 *
 * Errors are always `{"error":{"message":...}}` JSON. Fault injection is deterministic.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { FakeAccount } from './account.ts';
import { handle } from './router.ts';

/** The fake account served on 127.0.0.1 (see the file comment for the endpoints). */
export class CloudinaryFake extends FakeAccount {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  /** Listens on 127.0.0.1, port chosen by the OS. */
  async start(): Promise<void> {
    if (this.server) throw new Error('CloudinaryFake already started');
    const server = createServer((req, res) => {
      handle(this.ctx, this.requestLog, req, res).catch(() => res.destroy());
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  /** Closes the server and every open socket (stalled downloads included). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.ctx.stalled.clear();
    await closed;
  }

  get port(): number {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('CloudinaryFake not started');
    return address.port;
  }

  /** `http://127.0.0.1:PORT` */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** `cloudinary://KEY:SECRET@CLOUD?upload_prefix=http://127.0.0.1:PORT` */
  get cloudinaryUrl(): string {
    return `cloudinary://${this.apiKey}:${this.apiSecret}@${this.cloudName}?upload_prefix=${this.origin}`;
  }
}
