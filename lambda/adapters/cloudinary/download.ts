import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { HostPolicy } from '../../core/hosts.ts';
import { refuseUrl } from '../../core/hosts.ts';

/** Keep-alive agents shared by every download of the process. */
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: 64 }),
  https: new https.Agent({ keepAlive: true, maxSockets: 64 }),
};

const MAX_REDIRECTS = 3;

/** A download that failed before its body started. */
export class DownloadError extends Error {
  override readonly name = 'DownloadError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

const once = (url: URL, signal: AbortSignal, timeoutMs: number): Promise<IncomingMessage> =>
  new Promise((resolve, reject) => {
    const lib = url.protocol === 'http:' ? http : https;
    const req = lib.get(
      url,
      {
        agent: url.protocol === 'http:' ? agents.http : agents.https,
        signal,
        headers: { 'accept-encoding': 'identity', 'user-agent': 'cloudinary-backup' },
      },
      (res) => {
        // The timeout is for the response to start. Once it has, a body that stops is the
        // idle timer's to judge (transfer/exact-length.ts), which does not count the time a
        // busy consumer (an S3 part in flight) holds the socket paused.
        req.setTimeout(0);
        resolve(res);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new DownloadError(`no response for ${timeoutMs} ms`, true)));
    req.on('error', reject);
  });

/**
 * GETs a URL that must be on a Cloudinary host of this account, following at most three
 * redirects, each checked against the same policy before it is fetched. Resolves with the
 * response of status 200 (its body not yet read); rejects with a DownloadError otherwise.
 * The URL is never put in an error message: signed URLs carry a signature.
 */
export const fetchOriginal = async (
  rawUrl: string,
  policy: HostPolicy,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<IncomingMessage> => {
  let current = rawUrl;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
    const refused = refuseUrl(current, policy);
    if (refused) throw new DownloadError(`refused to download: ${refused}`, false);
    let res: IncomingMessage;
    try {
      res = await once(new URL(current), signal, timeoutMs);
    } catch (err) {
      if (err instanceof DownloadError) throw err;
      const code = (err as { code?: string }).code ?? (err as Error).message;
      throw new DownloadError(`download failed: ${code}`, !signal.aborted);
    }
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location) {
      res.resume();
      current = new URL(res.headers.location, current).toString();
      continue;
    }
    if (status !== 200) {
      res.resume();
      throw new DownloadError(`download failed: HTTP ${status}`, status >= 500 || status === 429 || status === 420, status);
    }
    return res;
  }
  throw new DownloadError(`download failed: more than ${MAX_REDIRECTS} redirects`, false);
};
