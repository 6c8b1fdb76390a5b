/**
 * The Upload API, `POST /v1_1/:cloud/:resource_type/upload` (multipart or form-encoded, signed
 * parameters), including chunked uploads (`upload_large`). Not rate-limited: Cloudinary's support
 * article "Are Cloudinary APIs rate-limited?" says the Upload API is not.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { HttpError, decodeSeg, header, readBody } from '../http-util.ts';
import { sendJsonInPieces } from './pieces.ts';
import { multipartBoundary, parseMultipart } from '../multipart.ts';
import { checkSignedParams } from './auth.ts';
import type { FakeContext } from './context.ts';
import { parseKeyValues, splitList } from './params.ts';
import { resourceJson } from './resources.ts';
import { defaultFormat, parseResourceType } from './store.ts';
import type { FakeAsset, ResourceType } from './types.ts';
import { checkMediaLimit, checkPublicId, uploadModeration, uploadPlacement } from './upload-rules.ts';
import { usageReport } from './usage.ts';

const MIN_CHUNK_BYTES = 5 * 1024 * 1024;
const MAX_BODY_BYTES = 512 * 1024 * 1024;
const UPLOAD_TYPES = new Set(['upload', 'private', 'authenticated']);
const IMAGE_FORMATS = new Set(['jpg', 'jpeg', 'png', 'gif', 'webp', 'avif', 'svg', 'bmp', 'tiff', 'tif', 'ico', 'heic', 'pdf']);
const VIDEO_FORMATS = new Set(['mp4', 'mov', 'webm', 'avi', 'mkv', 'm4v', 'mp3', 'wav', 'ogg', 'flac', 'm4a']);

/** An upload request's parameters and file. */
interface UploadForm {
  fields: Record<string, string>;
  file: Buffer | undefined;
  filename: string | undefined;
}

/** Serves one upload (`rtSeg`: the `:resource_type` path segment, or `auto`). */
export async function upload(ctx: FakeContext, req: IncomingMessage, res: ServerResponse, rtSeg: string): Promise<void> {
  const rtParam = decodeSeg(rtSeg);
  if (rtParam !== 'auto') parseResourceType(rtParam);
  const form = await readUploadForm(req);
  const fields = form.fields;
  checkSignedParams(ctx, fields);
  let { file, filename } = form;
  if (file === undefined) {
    const text = fields['file'];
    if (text === undefined) throw new HttpError(400, 'Missing required parameter - file');
    const dataUri = /^data:([\w.+-]+\/[\w.+-]+)?(?:;[\w.-]+=[\w.-]+)*;base64,(.*)$/s.exec(text);
    if (!dataUri) throw new HttpError(400, 'The fake accepts only files and base64 data URIs, not remote URLs');
    file = Buffer.from(dataUri[2] ?? '', 'base64');
    const subtype = (dataUri[1] ?? '').split('/')[1] ?? '';
    filename = `file.${subtype.replace(/^jpeg$/, 'jpg').replace(/\+.*$/, '').replace(/^plain$/, 'txt')}`;
  }
  const whole = await takeChunk(ctx, req, res, file);
  if (whole === undefined) return;
  checkMediaLimit(usageReport(ctx), rtParam, whole.length);
  const stored = storeUpload(ctx, rtParam, fields, whole, filename);
  if (!stored.existing) ctx.stats().uploads += 1;
  await sendJsonInPieces(res, 200, stored.response);
}

/** The body's parameters (`name[]` ones joined by commas) and its file part. */
async function readUploadForm(req: IncomingMessage): Promise<UploadForm> {
  const body = await readBody(req, MAX_BODY_BYTES);
  const form: UploadForm = { fields: {}, file: undefined, filename: undefined };
  const fields = form.fields;
  const boundary = multipartBoundary(req.headers['content-type']);
  const addField = (name: string, value: string): void => {
    const key = name.endsWith('[]') ? name.slice(0, -2) : name;
    fields[key] = name.endsWith('[]') && fields[key] !== undefined ? `${fields[key]},${value}` : value;
  };
  if (boundary) {
    let parts;
    try {
      parts = parseMultipart(body, boundary);
    } catch (err) {
      throw new HttpError(400, `Malformed multipart body: ${(err as Error).message}`);
    }
    for (const part of parts) {
      if (part.name === 'file' && part.filename !== undefined) {
        form.file = part.data;
        form.filename = part.filename;
      } else addField(part.name, part.data.toString('utf8'));
    }
  } else if (/^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) addField(k, v);
  } else {
    throw new HttpError(400, 'Upload must be multipart/form-data');
  }
  return form;
}

/**
 * Chunked upload (upload_large): collects parts until the one that states the total, answering
 * `{done: false}` for the others. Returns the whole file, or undefined when it answered a part.
 * A request that is not a chunk is the whole file.
 */
async function takeChunk(ctx: FakeContext, req: IncomingMessage, res: ServerResponse, file: Buffer): Promise<Buffer | undefined> {
  const uploadId = header(req, 'x-unique-upload-id');
  const range = header(req, 'content-range');
  if (uploadId === undefined || range === undefined) return file;
  const m = /^bytes (\d+)-(-?\d+)\/(-?\d+)$/.exec(range.trim());
  if (!m) throw new HttpError(400, `Invalid Content-Range ${range}`);
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = Number(m[3]);
  if (end - start + 1 !== file.length) throw new HttpError(400, `Content-Range ${range} does not match a chunk of ${file.length} bytes`);
  // Chunks are at least 5 MB except the last (Upload API reference, upload_large / chunk_size).
  if (total < 0 && file.length < MIN_CHUNK_BYTES) throw new HttpError(400, `Chunk of ${file.length} bytes is below the 5 MB minimum`);
  const session = ctx.chunkSessions.get(uploadId) ?? [];
  ctx.chunkSessions.set(uploadId, session);
  session.push({ start, data: Buffer.from(file) });
  if (total < 0) {
    await sendJsonInPieces(res, 200, { done: false, bytes: session.reduce((n, p) => n + p.data.length, 0) });
    return undefined;
  }
  ctx.chunkSessions.delete(uploadId);
  session.sort((a, b) => a.start - b.start);
  let at = 0;
  for (const part of session) {
    if (part.start !== at) throw new HttpError(400, `Chunked upload ${uploadId}: missing bytes at ${at}`);
    at += part.data.length;
  }
  if (at !== total) throw new HttpError(400, `Chunked upload ${uploadId}: got ${at} of ${total} bytes`);
  return Buffer.concat(session.map((p) => p.data));
}

/** Stores the upload as a new asset or a new version (or, with overwrite=false, keeps the existing one). */
function storeUpload(
  ctx: FakeContext,
  rtParam: string,
  fields: Record<string, string>,
  file: Buffer,
  filename: string | undefined,
): { response: Record<string, unknown>; existing?: true } {
  const base = filename && filename !== 'file' && filename !== 'blob' ? filename : undefined;
  const ext = base && base.includes('.') ? (base.split('.').pop() ?? '').toLowerCase() : '';
  const resourceType: ResourceType =
    rtParam === 'auto'
      ? IMAGE_FORMATS.has(ext) ? 'image' : VIDEO_FORMATS.has(ext) ? 'video' : ext ? 'raw' : 'image'
      : (rtParam as ResourceType);
  const type = fields['type'] ?? 'upload';
  if (!UPLOAD_TYPES.has(type)) throw new HttpError(400, `Invalid type ${type}`);
  const format =
    fields['format'] ?? (resourceType === 'raw' ? '' : (ext.replace(/^jpeg$/, 'jpg') || defaultFormat(resourceType)));
  let publicId =
    fields['public_id'] ?? `${randomBytes(10).toString('hex')}${resourceType === 'raw' && ext ? `.${ext}` : ''}`;
  if (ctx.settings.enforcePublicIdRules) publicId = checkPublicId(publicId);
  const overwrite = !/^(false|0)$/i.test(fields['overwrite'] ?? 'true');
  const existing = ctx.store.get(publicId, resourceType, type);
  const extra = {
    original_filename: base ? base.replace(/\.[^.]*$/, '') : 'file',
    api_key: ctx.apiKey,
    placeholder: false,
  };
  if (existing && !overwrite) {
    return { response: { ...uploadJson(ctx, existing), ...extra, existing: true }, existing: true };
  }
  const changes = {
    tags: splitList(fields['tags']),
    context: parseKeyValues(fields['context']) as Record<string, string>,
    metadata: parseKeyValues(fields['metadata'], true),
  };
  if (ctx.settings.requireMetadataFields) {
    const known = new Set(ctx.metadataFields.list().map((f) => f.external_id));
    for (const id of Object.keys(changes.metadata)) {
      if (!known.has(id)) throw new HttpError(400, `Metadata field ${id} does not exist`);
    }
  }
  const placement = { ...uploadPlacement(fields), ...uploadModeration(fields) };
  let asset: FakeAsset;
  if (existing) {
    ctx.store.replace(publicId, resourceType, type, { content: file, format });
    asset = ctx.store.updateMetadata(publicId, resourceType, type, changes);
    Object.assign(ctx.store.mustGet(publicId, resourceType, type), placement);
  } else {
    asset = ctx.store.add({ publicId, resourceType, type, format, content: file, ...changes, ...placement });
  }
  return { response: { ...uploadJson(ctx, asset), ...extra } };
}

/** The upload answer: the resource, its moderation and the upload's own fields. */
function uploadJson(ctx: FakeContext, asset: FakeAsset): Record<string, unknown> {
  const content = asset.content ?? Buffer.alloc(0);
  return {
    ...resourceJson(ctx, asset, { tags: true, context: true, metadata: true }),
    // The upload answer carries the moderation array (cloudinary_npm docs/moderate-upload.md).
    ...(asset.moderationStatus !== undefined ? { moderation: [{ kind: 'manual', status: asset.moderationStatus }] } : {}),
    version_id: createHash('md5').update(`${asset.assetId}:${asset.version}:${asset.generation}`).digest('hex'),
    signature: createHash('sha1').update(content).digest('hex'),
    etag: createHash('md5').update(content).digest('hex'),
  };
}
