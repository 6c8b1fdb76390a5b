import type { Destination } from '../ports/storage.ts';

/**
 * Reads one small JSON object from a destination, or undefined when the key does not exist.
 * Other read errors (access denied, network) propagate: "no such object" and "could not look"
 * must not read the same, or `status` would report a held lease as free.
 */
export const readJson = async <T>(destination: Destination, key: string): Promise<T | undefined> => {
  let body;
  try {
    body = await destination.get(key);
  } catch (err) {
    if ((err as { notFound?: boolean }).notFound) return undefined;
    throw err;
  }
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
};

/** Writes one small JSON object (pretty-printed: people read these in the S3 console). */
export const writeJson = async (destination: Destination, key: string, value: unknown): Promise<void> => {
  const body = Buffer.from(JSON.stringify(value, null, 2), 'utf8');
  await destination.put({ key, body, length: body.length, contentType: 'application/json' });
};

/** Writes rows as JSON lines, one per row (the logs and records a run keeps beside its catalog). */
export const writeJsonLines = async (destination: Destination, key: string, rows: readonly unknown[]): Promise<void> => {
  const body = Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n') + '\n', 'utf8');
  await destination.put({ key, body, length: body.length, contentType: 'application/x-ndjson' });
};
