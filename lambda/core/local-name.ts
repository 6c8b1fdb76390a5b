/** Characters no common desktop file system (NTFS, APFS, ext4, FAT) accepts in a name. */
const FORBIDDEN = /[\u0000-\u001f\u007f<>:"\\|?*]/g;
/** Longest name segment we write, in UTF-8 bytes (file systems stop at 255). */
const MAX_SEGMENT_BYTES = 200;

const clip = (s: string, maxBytes: number): string => {
  let out = s;
  while (Buffer.byteLength(out, 'utf8') > maxBytes) out = Array.from(out).slice(0, -1).join('');
  return out;
};

const safeSegment = (segment: string): string => {
  if (segment === '' || segment === '.' || segment === '..') return '_';
  // Windows drops trailing dots and spaces, so "a." and "a" would be the same file there.
  const cleaned = segment.normalize('NFC').replace(FORBIDDEN, '_').replace(/[. ]+$/, (m) => '_'.repeat(m.length));
  return clip(cleaned, MAX_SEGMENT_BYTES);
};

/**
 * The relative local path of an asset copied out of a backup: its public_id as folders and a
 * file name, plus `.<format>`, each segment made safe for every desktop file system (forbidden
 * characters become `_`, `.`/`..`/empty segments become `_`). Readable, unlike the backup's
 * `_encoded`/`_hashed` keys, and never able to climb out of the target folder.
 */
export const localPathFor = (publicId: string, format: string): string[] => {
  const segments = publicId.split('/').map(safeSegment);
  const ext = format && /^[A-Za-z0-9_-]{1,32}$/.test(format) ? `.${format}` : '';
  const last = segments.pop() ?? '_';
  segments.push(`${clip(last, MAX_SEGMENT_BYTES - ext.length)}${ext}`);
  return segments;
};

/** The key two names collide on in a case-insensitive file system (macOS, Windows defaults). */
export const caseFold = (name: string): string => name.normalize('NFC').toLowerCase();
