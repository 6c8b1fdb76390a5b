import http from 'node:http';
import https from 'node:https';
import type { ClientRequest, IncomingHttpHeaders } from 'node:http';

/** One HTTP answer, its body read to the end and decoded as UTF-8 once. */
export interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/** What one request is: where, how, and how long it may stay silent. */
export interface ExchangeOptions {
  readonly method: 'GET' | 'POST';
  readonly headers: Readonly<Record<string, string>>;
  /** An idle socket for this long fails the request with a TimeoutError. */
  readonly timeoutMs: number;
  readonly agent: http.Agent;
}

/** The server stayed silent for longer than allowed; the request was cut. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/**
 * A connection per request, closed after the answer. The SDK never read the body of an answer
 * whose status it did not expect (cloudinary_npm lib/api_client/execute_request.js, the branch
 * after `includes([200, 400, ...], res.statusCode)`); on a kept-alive socket that unread body
 * held the process open until the server dropped the connection (found by the fault suite: the
 * CLI lingered 5 s after a 502). This client reads every body, and still closes the socket: at
 * a few hundred Admin API calls an hour, and one upload request per file or chunk, the extra
 * handshakes cost nothing that matters, and no idle socket can hold a process open.
 */
export const agentFor = (origin: string): http.Agent =>
  origin.startsWith('http:') ? new http.Agent({ keepAlive: false }) : new https.Agent({ keepAlive: false });

/**
 * Sends one request and reads its whole answer. Every chunk is kept as bytes and the body is
 * decoded once at the end: decoding each network chunk on its own (`buffer += d`, what
 * cloudinary_npm 2.11.0 does in lib/api_client/execute_request.js and lib/uploader.js) turns a
 * multi-byte character split between two TLS records into U+FFFD.
 *
 * `send` writes the request body and ends the request (or destroys it with an error, which
 * rejects the exchange: a half-sent body never completes a request). Rejects with the network
 * error, or a TimeoutError when the socket stays idle for `timeoutMs`; any status resolves.
 */
export const exchange = (url: URL, options: ExchangeOptions, send: (req: ClientRequest) => void): Promise<Answer> =>
  new Promise<Answer>((resolve, reject) => {
    const lib = url.protocol === 'http:' ? http : https;
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    const req = lib.request(url, { method: options.method, headers: options.headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', fail);
      res.on('end', () => {
        if (settled || !res.complete) return;
        settled = true;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
      // Closed before a complete 'end': the answer was cut (no-op once it resolved).
      res.on('close', () => fail(new Error('Cloudinary closed the connection before the answer was complete')));
    });
    req.on('error', fail);
    req.setTimeout(options.timeoutMs, () => {
      req.destroy(new TimeoutError(`Cloudinary did not answer within ${Math.round(options.timeoutMs / 1000)} s`));
    });
    send(req);
  });
