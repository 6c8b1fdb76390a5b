import { normalizePrefix } from './keys.ts';

/**
 * Names operating systems and file managers leave beside files, never part of a Cloudinary
 * account. Sources: GitHub's gitignore templates for macOS and Windows
 * (github/gitignore `Global/macOS.gitignore`: `.DS_Store`, `__MACOSX/`, `.AppleDouble`, `._*`,
 * `Icon\r`, `.Trashes`, `.Spotlight-V100`, `Network Trash Folder`, `Temporary Items`, ...;
 * `Global/Windows.gitignore`: `Thumbs.db`, `ehthumbs.db`, `[Dd]esktop.ini`, `$RECYCLE.BIN/`,
 * `RECYCLER/`, `System Volume Information/`). Every macOS one but three starts with a dot.
 */
const SYSTEM_NAMES = new Set([
  '__macosx',
  'icon\r',
  'network trash folder',
  'temporary items',
  'thumbs.db',
  'ehthumbs.db',
  'ehthumbs_vista.db',
  'desktop.ini',
  '$recycle.bin',
  'recycler',
  'system volume information',
]);

/**
 * True when a key of the backup (under `prefix`) is a dot-file, in a dot-folder, or an operating
 * system's file (SYSTEM_NAMES): such an object is never uploaded by a restore, whatever its
 * metadata. The key rule (keys.ts) never writes a segment `.` or `..`; a public_id segment that
 * starts with a dot is restored from its catalog entry, which this rule does not look at.
 */
export const isSystemFile = (prefix: string, key: string): boolean => {
  const p = normalizePrefix(prefix);
  const rest = p !== '' && key.startsWith(`${p}/`) ? key.slice(p.length + 1) : key;
  return rest.split('/').some((segment) => segment.startsWith('.') || SYSTEM_NAMES.has(segment.toLowerCase()));
};
