/**
 * The import rules of the layout (docs/architecture.md, "Layout"): `lambda/core/` imports no SDK and no
 * other part of `lambda/` (only node built-ins and itself); nothing in `lambda/` imports `infra/`
 * (so aws-cdk-lib never reaches the Lambda bundle); ports import only core; adapters import no
 * use case or entry point; use cases import no entry point; and there is no import cycle.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const filesUnder = (dir: string): string[] =>
  readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    return statSync(path.join(ROOT, rel)).isDirectory() ? filesUnder(rel) : /\.ts$/.test(name) ? [rel] : [];
  });

/** Every import specifier of a file (static and dynamic), resolved to a repository path when relative. */
export const importsOf = (file: string, source = readFileSync(path.join(ROOT, file), 'utf8')): string[] =>
  [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => {
    const spec = (m[1] ?? m[2]) as string;
    return spec.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)) : spec;
  });

const lambdaFiles = filesUnder('lambda');
const graph = new Map(lambdaFiles.map((f) => [f, importsOf(f)]));

const violations = (files: readonly string[], bad: (spec: string) => boolean): string[] =>
  files.flatMap((f) => (graph.get(f) ?? importsOf(f)).filter(bad).map((spec) => `${f} -> ${spec}`));

const isNode = (spec: string): boolean => spec.startsWith('node:');
const inside = (spec: string, dir: string): boolean => spec.startsWith(`${dir}/`);

test('the scanner sees static, type-only, re-exported and dynamic imports', () => {
  const src = "import a from './a.ts';\nimport type { B } from '../b.ts';\nexport { c } from './c/c.ts';\nconst d = await import('./d.ts');\nimport { S3Client } from '@aws-sdk/client-s3';";
  assert.deepEqual(importsOf('lambda/x/y.ts', src), ['lambda/x/a.ts', 'lambda/b.ts', 'lambda/x/c/c.ts', 'lambda/x/d.ts', '@aws-sdk/client-s3']);
});

test('lambda/core imports only node built-ins and itself (no SDK, no adapter)', () => {
  const core = lambdaFiles.filter((f) => inside(f, 'lambda/core'));
  assert.ok(core.length > 10);
  assert.deepEqual(violations(core, (s) => !isNode(s) && !inside(s, 'lambda/core')), []);
});

test('lambda/ports imports only core and node built-ins', () => {
  assert.deepEqual(violations(lambdaFiles.filter((f) => inside(f, 'lambda/ports')), (s) => s.startsWith('lambda/') && !inside(s, 'lambda/core') && !inside(s, 'lambda/ports')), []);
});

test('adapters import no use case, store or entry point', () => {
  const uses = ['lambda/backup', 'lambda/restore', 'lambda/verify', 'lambda/entry', 'lambda/store'];
  assert.deepEqual(violations(lambdaFiles.filter((f) => inside(f, 'lambda/adapters')), (s) => uses.some((u) => inside(s, u))), []);
});

test('use cases and stores import no entry point', () => {
  const files = lambdaFiles.filter((f) => ['lambda/backup', 'lambda/restore', 'lambda/verify', 'lambda/store', 'lambda/transfer'].some((d) => inside(f, d)));
  assert.deepEqual(violations(files, (s) => inside(s, 'lambda/entry')), []);
});

test('nothing in lambda/ imports infra/ or aws-cdk-lib', () => {
  assert.deepEqual(violations(lambdaFiles, (s) => inside(s, 'infra') || s === 'aws-cdk-lib' || s.startsWith('aws-cdk-lib/') || s === 'constructs'), []);
});

test('no import cycle in lambda/', () => {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, trail: string[]): void => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'visiting') {
      cycles.push([...trail.slice(trail.indexOf(f)), f].join(' -> '));
      return;
    }
    state.set(f, 'visiting');
    for (const dep of graph.get(f) ?? []) if (graph.has(dep)) visit(dep, [...trail, f]);
    state.set(f, 'done');
  };
  for (const f of lambdaFiles) visit(f, []);
  assert.deepEqual(cycles, []);
});

/** The specifiers a file imports at load time: static value imports (not `import type`, not `import()`). */
const staticImportsOf = (file: string): string[] =>
  [...readFileSync(path.join(ROOT, file), 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\s(?!type\s)[^;]*?from\s+['"]([^'"]+)['"]/g)].map((m) => {
    const spec = m[1] as string;
    return spec.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)) : spec;
  });

test('the CLI loads the Lambda, CloudFormation and Secrets Manager clients only in the commands that call them', () => {
  // Every start parses what main.ts reaches by static imports (in the bundle: dist/cli.mjs);
  // these clients are for `setup` and `run` only and are dynamic imports (their own chunks).
  const lazy = ['@aws-sdk/client-lambda', '@aws-sdk/client-cloudformation', '@aws-sdk/client-secrets-manager'];
  const seen = new Set<string>();
  const found: string[] = [];
  const walk = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const spec of staticImportsOf(f)) {
      if (lazy.includes(spec)) found.push(`${f} -> ${spec}`);
      if (spec.startsWith('lambda/')) walk(spec);
    }
  };
  walk('lambda/entry/cli/main.ts');
  assert.ok(seen.size > 20, `the walk reached only ${seen.size} files`);
  assert.deepEqual(found, []);
});
