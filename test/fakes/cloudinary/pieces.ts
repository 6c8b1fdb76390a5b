/**
 * JSON answers written in pieces, as a client reads them from the real service. Over HTTPS an
 * answer arrives in TLS records of at most 16 KiB (RFC 8446 section 5.1, "The length MUST NOT
 * exceed 2^14 bytes"), and a client's `data` events follow them. A server that writes its answer
 * in one piece never shows a client that decodes each piece on its own (`buffer += d`, as
 * cloudinary_npm 2.11.0 does in lib/api_client/execute_request.js and lib/uploader.js): a
 * multi-byte character split between two pieces becomes U+FFFD there. So every JSON answer of
 * this fake is cut into pieces of at most PIECE_BYTES, each cut moved into the middle of a
 * multi-byte character when there is one in the piece, and each piece leaves the server before
 * the next is written.
 */
import type { ServerResponse } from 'node:http';
import { setImmediate as tick } from 'node:timers/promises';

/** The largest piece; real TLS records are up to 16 KiB, smaller pieces mean more cuts. */
export const PIECE_BYTES = 4096;

/** Whether the byte at `i` continues a UTF-8 character (10xxxxxx), so a cut before it splits the character. */
const continues = (bytes: Buffer, i: number): boolean => i > 0 && i < bytes.length && ((bytes[i] as number) & 0xc0) === 0x80;

/**
 * Where to cut `bytes` into pieces of at most `size`: each piece ends inside the last multi-byte
 * character it holds, else at `size`; the last piece is cut the same way, and an answer shorter
 * than `size` inside its first multi-byte character as well. So an answer of any size that holds
 * non-ASCII text is split inside a character at least once.
 */
export const cutPoints = (bytes: Buffer, size = PIECE_BYTES): number[] => {
  const cuts: number[] = [];
  let start = 0;
  while (start < bytes.length) {
    const limit = Math.min(start + size, bytes.length);
    if (limit === bytes.length) {
      // The last piece is cut inside its last multi-byte character; a short answer (one piece)
      // inside its first one too.
      let first = start + 1;
      while (cuts.length === 0 && first < bytes.length && !continues(bytes, first)) first += 1;
      if (cuts.length > 0) first = start;
      let last = bytes.length - 1;
      while (last > first && !continues(bytes, last)) last -= 1;
      if (first > start && first < bytes.length) cuts.push(first);
      if (last > first + 1) cuts.push(last);
      break;
    }
    let cut = limit;
    for (let i = limit; i > start; i -= 1) {
      if (continues(bytes, i)) {
        cut = i;
        break;
      }
    }
    cuts.push(cut);
    start = cut;
  }
  return cuts;
};

/**
 * Writes one piece and waits until it has left (the callback) and the event loop has passed its
 * poll phase once more: a client in this process reads the piece before the next is written
 * (one setImmediate runs in the same loop turn, before the poll that would read it). A client in
 * another process usually does too; when it is slower, two pieces merge, as on a real network.
 */
const writePiece = async (res: ServerResponse, piece: Buffer): Promise<void> => {
  await new Promise<void>((resolve) => {
    res.write(piece, () => resolve());
  });
  await tick();
  await tick();
};

/**
 * Sends a JSON answer (status, headers, Content-Length) in pieces (see the file's comment). An
 * answer whose client went away stops quietly.
 */
export async function sendJsonInPieces(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): Promise<void> {
  const bytes = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(bytes.length),
  });
  let start = 0;
  for (const cut of cutPoints(bytes)) {
    if (res.destroyed) return;
    await writePiece(res, bytes.subarray(start, cut));
    start = cut;
  }
  if (!res.destroyed) res.end(bytes.subarray(start));
}
