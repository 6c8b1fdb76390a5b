#!/usr/bin/env node
// The AWS SDK warns about Node 20 on every run; that is for developers, not for this tool's users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import { BUNDLE, isPackaged, staleReason } from './bundle-state.js';
import { tuneHeap } from './heap.js';

// Users run the bundle `npm ci` built (the `prepare` script): it starts in a third of the CPU
// time of compiling the TypeScript sources with tsx at every start. A bundle older than the
// sources is never run: a developer who edits a file gets tsx and the sources instead.
// CLOUDINARY_BACKUP_LOADER=bundle refuses to fall back (the tests use it: they must run what
// users run); =tsx always compiles the sources (the benchmark's before/after).
// Node >= 22.1 keeps V8's compiled code of the bundle on disk (its own folder under the OS temp
// directory) and reuses it at the next start: the bundle's compile is most of the start's CPU
// (docs/performance.md, "The fixed cost of a run"). Node 20 has no such API (undefined
// here); NODE_DISABLE_COMPILE_CACHE=1 turns it off.
// Documented at https://nodejs.org/api/module.html#moduleenablecompilecachecachedir
module.enableCompileCache?.();
const root = fileURLToPath(new URL('..', import.meta.url));
const loader = process.env.CLOUDINARY_BACKUP_LOADER;
// Installed from the tarball (`npm install -g cloudinary-backup-*.tgz`): the bundle is all there is.
const packaged = isPackaged(root);
const stale = packaged ? undefined : loader === 'tsx' ? 'CLOUDINARY_BACKUP_LOADER=tsx' : staleReason(root);
let main;
if (stale === undefined) {
  ({ main } = await import(new URL(`../${BUNDLE}`, import.meta.url).href));
} else if (loader === 'bundle') {
  process.stderr.write(`error: CLOUDINARY_BACKUP_LOADER=bundle but ${stale}: run "npm run build".\n`);
  process.exit(1);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../lambda/entry/cli/main.ts'));
}
// V8's heap watched from inside the process (bin/heap.js): garbage bounded to the live
// heap's size once that is large, the young generation kept to Node.js 20's size; no heap limit,
// and the user's own flags win. Installed once the code is loaded: a flag set before the bundle
// loaded cost `--version` ~10 ms more CPU (0.10 s against 0.09, medians of 25,
// test/bench/results/startup-heap-flag.json; the cause was not traced: likely V8 refusing cached
// code of Node's built-in modules compiled after a flag changed).
tuneHeap();
process.exitCode = await main(process.argv.slice(2));
