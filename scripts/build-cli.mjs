// Builds the CLI bundle (dist/cli.mjs plus lazily loaded chunks) and its manifest
// (dist/cli.manifest.json: the inputs bin/bundle-state.js checks at every start).
// Run by `npm run build`, by npm's `prepare` (so `npm ci` in a fresh clone builds it), and by
// the tests' helper when the bundle is stale. Usage: node scripts/build-cli.mjs [--keep-old]
//
// Every file is written under a temporary name and renamed into place, the entry and then the
// manifest last: a CLI starting meanwhile sees the old bundle whole or the new one whole.
// Chunk names carry a content hash, so a chunk never changes under a running CLI; --keep-old
// leaves the previous build's chunks for CLIs that still run it (the tests build while other
// test files may run the CLI).
import { readdirSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let build;
try {
  ({ build } = await import('esbuild'));
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  // `npm ci --omit=dev` installs no esbuild: the CLI then compiles its sources with tsx at start.
  process.stderr.write('cloudinary-backup: esbuild is not installed, so the CLI is not bundled (it will start through tsx, slower).\n');
  process.exit(0);
}

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = path.join(root, 'dist');
const keepOld = process.argv.includes('--keep-old');

const result = await build({
  absWorkingDir: root,
  entryPoints: { cli: 'lambda/entry/cli/main.ts' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Dynamic imports (the cloudinary SDK, the Lambda/CloudFormation/Secrets Manager clients)
  // become chunks loaded only by the commands that need them.
  splitting: true,
  // The ES module build of a package where it has one ("module" before "main"; esbuild's default
  // for platform node is "main" first): @aws-sdk/client-s3's CommonJS build is one file holding
  // every command's schema, which the start evaluates whole; its ES build (sideEffects: false)
  // lets esbuild keep only the commands used. The bundle the CLI loads before a backup's first
  // request shrinks from ~1.86 MB to ~1.16 MB (docs/performance.md, "The fixed cost of a run").
  mainFields: ['module', 'main'],
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  // CommonJS dependencies call require() for Node's built-ins; an ES module has none.
  banner: { js: "import { createRequire as __cbCreateRequire } from 'node:module'; const require = __cbCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  metafile: true,
  write: false,
  logLevel: 'warning',
});

mkdirSync(path.join(dist, 'chunks'), { recursive: true });
const entry = path.join(dist, 'cli.mjs');
const outputs = result.outputFiles.map((f) => f.path);
const writeAtomically = (file, contents) => {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, file);
};
for (const f of result.outputFiles) if (f.path !== entry) writeAtomically(f.path, f.contents);
writeAtomically(entry, result.outputFiles.find((f) => f.path === entry).contents);

const projectInputs = Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('node_modules/'));
// npm rewrites node_modules/.package-lock.json on every install: a dependency that changed.
const inputs = [...projectInputs, 'package.json', 'node_modules/.package-lock.json'].map((p) => {
  const s = statSync(path.join(root, p));
  return { path: p, size: s.size, mtimeMs: s.mtimeMs };
});
writeAtomically(path.join(dist, 'cli.manifest.json'), `${JSON.stringify({ builtAt: new Date().toISOString(), inputs }, null, 1)}\n`);

if (!keepOld) {
  const current = new Set(outputs.map((p) => path.relative(dist, p)));
  for (const name of readdirSync(path.join(dist, 'chunks'))) {
    if (!current.has(`chunks/${name}`)) rmSync(path.join(dist, 'chunks', name), { force: true });
  }
}
