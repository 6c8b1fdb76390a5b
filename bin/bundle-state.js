// Whether dist/cli.mjs was built from the sources as they are now. Plain JavaScript with only
// node:fs, so that asking costs a few stat calls and no compiler: the bin asks at every start.
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Where the bundle and its manifest live, under the repository root. */
export const BUNDLE = 'dist/cli.mjs';
export const MANIFEST = 'dist/cli.manifest.json';
/** The CLI's entry among the sources; a copy installed from `npm pack`'s tarball has none. */
export const SOURCE_ENTRY = 'lambda/entry/cli/main.ts';

/**
 * True when `root` is an installed package, not a clone: the tarball holds `bin/` and the built
 * `dist/` only (package.json's `files`), so there are no sources to compare the bundle with and
 * no tsx to fall back to. Such a copy runs its bundle as shipped.
 * @param {string} root
 * @returns {boolean}
 */
export const isPackaged = (root) => !existsSync(path.join(root, SOURCE_ENTRY));

/**
 * Returns undefined when the bundle under `root` is fresh, else a one-line reason. Fresh means:
 * every project file the bundle was built from (esbuild's list of inputs, plus package.json and
 * npm's record of node_modules) has the size and modification time it had at build time. An
 * edit, a checkout or an npm install changes one of them; a deleted file fails its stat. A file
 * added since the build can only matter through an import in a file that then changed.
 * @param {string} root
 * @returns {string | undefined}
 */
export const staleReason = (root) => {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(root, MANIFEST), 'utf8'));
    statSync(path.join(root, BUNDLE));
  } catch {
    return `${BUNDLE} is not built`;
  }
  for (const f of manifest.inputs ?? []) {
    let s;
    try {
      s = statSync(path.join(root, f.path));
    } catch {
      return `${f.path} is gone since the build`;
    }
    if (s.size !== f.size || s.mtimeMs !== f.mtimeMs) return `${f.path} changed since the build`;
  }
  return undefined;
};
