/**
 * Deterministic, lazily generated asset content for the Cloudinary fake. The bytes of an asset
 * are an AES-256-CTR keystream keyed by a seed string, so a 3 GiB asset costs no memory, is
 * generated at GB/s, and a test can recompute its SHA-256 without the fake storing anything.
 */
import { createCipheriv, createHash } from 'node:crypto';

/** Size of the chunks the generator yields. */
export const CONTENT_CHUNK_BYTES = 256 * 1024;

const ZEROS = Buffer.alloc(CONTENT_CHUNK_BYTES);

/** Yields `size` deterministic bytes for `seed`, in chunks of at most CONTENT_CHUNK_BYTES. */
export function* seededChunks(seed: string, size: number): Generator<Buffer> {
  const key = createHash('sha256').update(`cloudinary-fake:${seed}`).digest();
  const iv = createHash('sha256').update(key).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-256-ctr', key, iv);
  let left = size;
  while (left > 0) {
    const n = Math.min(left, CONTENT_CHUNK_BYTES);
    yield cipher.update(ZEROS.subarray(0, n));
    left -= n;
  }
}

/** Yields an in-memory buffer in chunks (so stored and generated content stream alike). */
export function* bufferChunks(data: Buffer): Generator<Buffer> {
  for (let at = 0; at < data.length; at += CONTENT_CHUNK_BYTES) {
    yield data.subarray(at, Math.min(data.length, at + CONTENT_CHUNK_BYTES));
  }
}

/** Concatenates a chunk generator (only for small contents). */
export function collect(chunks: Iterable<Buffer>): Buffer {
  return Buffer.concat([...chunks]);
}

/** Hex SHA-256 of a chunk generator. */
export function sha256Of(chunks: Iterable<Buffer>): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

/** A small deterministic PRNG (mulberry32) for seeded fault injection. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
