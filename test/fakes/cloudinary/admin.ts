/**
 * The Admin API endpoints (listing, resource details and update, usage, metadata fields): each
 * call is counted, authenticated with HTTP Basic, and charged against the hourly allowance;
 * every answer, an error included, carries the rate-limit headers (see rate-limit.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError } from '../http-util.ts';
import { sendJsonInPieces } from './pieces.ts';
import { checkBasicAuth } from './auth.ts';
import type { FakeContext } from './context.ts';
import { listing, listingFaultAnswer } from './listing.ts';
import { metadataFieldsEndpoint } from './metadata-fields.ts';
import { resourceDetails, updateResource } from './resources.ts';
import { usageReport } from './usage.ts';

/** The Admin API kinds of request (see routeKind). */
export type AdminKind = 'listing' | 'resource' | 'usage' | 'metadata';

/** Serves one Admin API request. */
export async function admin(
  ctx: FakeContext,
  req: IncomingMessage,
  res: ServerResponse,
  kind: AdminKind,
  url: URL,
  rest: string[],
): Promise<void> {
  const stats = ctx.stats();
  stats.adminCalls += 1;
  if (kind === 'listing') stats.listingCalls += 1;
  checkBasicAuth(ctx, req);
  if (kind === 'listing') {
    const fault = ctx.listingFaults.take();
    if (fault) {
      const { message, headers } = listingFaultAnswer(ctx, fault);
      await sendJsonInPieces(res, fault.status, { error: { message } }, headers);
      return;
    }
  }
  const headers = ctx.rate.charge();
  try {
    if (kind === 'usage') {
      await sendJsonInPieces(res, 200, usageReport(ctx), headers);
    } else if (kind === 'metadata') {
      await sendJsonInPieces(res, 200, await metadataFieldsEndpoint(ctx.metadataFields, req), headers);
    } else if (kind === 'resource') {
      await sendJsonInPieces(res, 200, req.method === 'POST' ? await updateResource(ctx, req, rest) : resourceDetails(ctx, rest), headers);
    } else if (ctx.listingFaults.takeMalformed()) {
      res.writeHead(200, { ...headers, 'Content-Type': 'application/json' });
      res.end('{"resources":[{"asset_id":"0f3c');
    } else {
      await sendJsonInPieces(res, 200, listing(ctx, url, rest), headers);
    }
  } catch (err) {
    if (err instanceof HttpError) throw new HttpError(err.status, err.message, { ...headers, ...err.headers });
    throw err;
  }
}
