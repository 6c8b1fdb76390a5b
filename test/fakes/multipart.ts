/**
 * A small multipart/form-data parser for the Cloudinary fake (the SDK's uploads are multipart).
 * It works on a fully buffered body: uploads in tests are small, and chunked uploads arrive
 * as bounded chunks.
 */

export interface MultipartPart {
  name: string;
  /** Present for file parts. */
  filename?: string;
  contentType?: string;
  data: Buffer;
}

/** The boundary from a `multipart/form-data; boundary=...` header, or undefined. */
export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data/i.test(contentType)) return undefined;
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2]) : undefined;
}

/** Parses a multipart body. Throws an Error with a readable message when it is malformed. */
export function parseMultipart(body: Buffer, boundary: string): MultipartPart[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const separator = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const parts: MultipartPart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos < 0) throw new Error('multipart body has no opening boundary');
  for (;;) {
    pos += delimiter.length;
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) return parts; // closing "--"
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    const headerEnd = body.indexOf('\r\n\r\n', pos, 'latin1');
    if (headerEnd < 0) throw new Error('multipart part has no header terminator');
    const headers = parseHeaders(body.toString('utf8', pos, headerEnd));
    const dataStart = headerEnd + 4;
    const next = body.indexOf(separator, dataStart);
    if (next < 0) throw new Error('multipart body has no closing boundary');
    const disposition = headers.get('content-disposition') ?? '';
    const name = dispositionParam(disposition, 'name');
    if (name === undefined) throw new Error('multipart part has no name');
    const part: MultipartPart = { name, data: body.subarray(dataStart, next) };
    const filename = dispositionParam(disposition, 'filename');
    if (filename !== undefined) part.filename = filename;
    const contentType = headers.get('content-type');
    if (contentType !== undefined) part.contentType = contentType;
    parts.push(part);
    pos = next + 2; // at the delimiter
  }
}

function parseHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return headers;
}

function dispositionParam(disposition: string, param: string): string | undefined {
  const match = new RegExp(`(?:^|;)\\s*${param}="((?:[^"\\\\]|\\\\.)*)"`, 'i').exec(disposition);
  if (match) return (match[1] ?? '').replace(/\\(.)/g, '$1');
  const bare = new RegExp(`(?:^|;)\\s*${param}=([^;\\s]*)`, 'i').exec(disposition);
  return bare ? bare[1] : undefined;
}
