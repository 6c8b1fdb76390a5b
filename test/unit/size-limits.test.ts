/**
 * The size rule of the layout (docs/architecture.md, "Size limits"): in `lambda/` and `infra/`
 * no file over 300 lines and no function, method or arrow function over 60 lines, unless the line
 * immediately above it says why in a marker comment, `// size: <reason>` (for a file: its first
 * line). A file or function that must stay long for now without a marker is named in ALLOWED below,
 * with its reason; the test fails when an entry or a marker is no longer needed, so the fix that
 * shortens the code also removes the exception.
 *
 * Parsed with the TypeScript compiler API, so a function is what the compiler says it is (nested
 * arrows and callbacks included, each counted on its own), and a count runs from the first token
 * of the function to its last: its doc comment does not count.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Most lines of a file in lambda/ or infra/. */
export const MAX_FILE_LINES = 300;
/** Most lines of one function, method or arrow function there. */
export const MAX_FUNCTION_LINES = 60;

/**
 * Long code that may stay long without a marker for now, each with its reason. Keys: a file path,
 * or `path Name` for a function (`Class.method`, or the variable an arrow is assigned to).
 */
// Code that must stay long for now and cannot take a marker, with the reason (none at present).
const ALLOWED: Readonly<Record<string, string>> = {};

/** A marker: `// size:` and a written reason (a word or two is not one). */
const MARKER = /^\s*\/\/\s*size:(.*)$/;
const MIN_REASON_CHARS = 12;

/** One piece of code over its limit. */
export interface Oversize {
  /** `path` for a file, `path Name` for a function (the key ALLOWED uses). */
  readonly id: string;
  readonly line: number;
  readonly lines: number;
  readonly limit: number;
  /** The 1-based line a marker for it must stand on. */
  readonly markerLine: number;
}

/** A file's line count as `wc -l` gives it, plus a last line without a newline. */
const lineCount = (text: string): number => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

/** The name a function goes by: its own, the variable or property it is assigned to, with its class. */
const nameOf = (fn: ts.SignatureDeclaration, sf: ts.SourceFile): string => {
  const own = fn.name && !ts.isComputedPropertyName(fn.name) ? fn.name.getText(sf) : undefined;
  const parent = fn.parent;
  const assigned =
    (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name ? parent.name.getText(sf) : undefined;
  const base = ts.isConstructorDeclaration(fn) ? 'constructor' : (own ?? assigned ?? `(anonymous, line ${sf.getLineAndCharacterOfPosition(fn.getStart(sf)).line + 1})`);
  const holder = ts.isClassLike(parent) ? parent : ts.isPropertyDeclaration(parent) && ts.isClassLike(parent.parent) ? parent.parent : undefined;
  return holder?.name ? `${holder.name.text}.${base}` : base;
};

/** The node whose first line a marker stands above: the whole `const x = () => ...` statement, not the arrow. */
const headOf = (fn: ts.Node): ts.Node => {
  let head = fn;
  while (
    ts.isVariableDeclaration(head.parent) ||
    ts.isVariableDeclarationList(head.parent) ||
    ts.isVariableStatement(head.parent) ||
    ts.isPropertyAssignment(head.parent) ||
    ts.isPropertyDeclaration(head.parent) ||
    ts.isExportAssignment(head.parent)
  ) {
    head = head.parent;
  }
  return head;
};

/** Everything over its limit in one file's text (`file`: its path from the repository root). */
export const oversizeIn = (file: string, text: string): Oversize[] => {
  const found: Oversize[] = [];
  const lines = lineCount(text);
  if (lines > MAX_FILE_LINES) found.push({ id: file, line: 1, lines, limit: MAX_FILE_LINES, markerLine: 1 });
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const lineOf = (pos: number): number => sf.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const start = lineOf(node.getStart(sf));
      const length = lineOf(node.getEnd()) - start + 1;
      if (length > MAX_FUNCTION_LINES) {
        found.push({ id: `${file} ${nameOf(node, sf)}`, line: start, lines: length, limit: MAX_FUNCTION_LINES, markerLine: lineOf(headOf(node).getStart(sf)) - 1 });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
};

/** The `// size:` markers of a file: line (1-based) -> the reason written. */
export const markersIn = (text: string): Map<number, string> => {
  const markers = new Map<number, string>();
  text.split('\n').forEach((l, i) => {
    const m = MARKER.exec(l);
    if (m) markers.set(i + 1, (m[1] ?? '').trim());
  });
  return markers;
};

/**
 * The rule applied to some files: one line per piece of code over its limit without a reason, per
 * marker without a written reason or with nothing over the limit below it, and per ALLOWED entry
 * that no longer names anything over its limit.
 */
export const sizeProblems = (files: ReadonlyMap<string, string>, allowed: Readonly<Record<string, string>>): string[] => {
  const problems: string[] = [];
  const over = new Set<string>();
  for (const [file, text] of files) {
    const markers = markersIn(text);
    const used = new Set<number>();
    for (const o of oversizeIn(file, text)) {
      over.add(o.id);
      const reason = markers.get(o.markerLine);
      if (reason !== undefined) used.add(o.markerLine);
      if (o.id in allowed) continue;
      if (reason === undefined) {
        problems.push(`${o.id} (line ${o.line}): ${o.lines} lines, over ${o.limit}; split it, or write why not as // size: <reason> ${o.id === file ? 'on its first line' : `right above line ${o.markerLine + 1}`}`);
      }
    }
    for (const [line, reason] of markers) {
      if (!used.has(line)) problems.push(`${file}:${line}: a // size: marker with nothing over the limit right below it; remove it`);
      else if (reason.length < MIN_REASON_CHARS) problems.push(`${file}:${line}: // size: needs a written reason, got "${reason}"`);
    }
  }
  for (const id of Object.keys(allowed)) {
    if (!over.has(id)) problems.push(`${id}: listed in ALLOWED but not over its limit (any more); remove the entry`);
  }
  return problems;
};

const filesUnder = (dir: string): string[] =>
  readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = `${dir}/${name}`;
    return statSync(path.join(ROOT, rel)).isDirectory() ? filesUnder(rel) : /\.ts$/.test(name) ? [rel] : [];
  });

test('lambda/ and infra/: no file over 300 lines, no function over 60, unless a reason is written', () => {
  const files = new Map([...filesUnder('lambda'), ...filesUnder('infra')].map((f) => [f, readFileSync(path.join(ROOT, f), 'utf8')] as const));
  assert.ok(files.size > 50, `only ${files.size} files found`);
  assert.deepEqual(sizeProblems(files, ALLOWED), []);
});

/** A function declaration, arrow or method of `n` lines in all (`head` its first line). */
const body = (head: string, n: number, close = '}'): string => [head, ...Array.from({ length: n - 2 }, (_, i) => `  x += ${i};`), close].join('\n');

test('the scanner counts declarations, arrows, methods and callbacks from first token to last', () => {
  const text = [
    '/** A doc comment does not count. */',
    body('export function a(): void {', 61),
    body('export const b = async (): Promise<void> => {', 61, '};'),
    body('class K {\n  m(): void {', 61, '  }\n}'),
    body('items.forEach((i) => {', 61, '});'),
    body('const ok = (): void => {', 60, '};'),
  ].join('\n');
  const callbackLine = text.split('\n').indexOf('items.forEach((i) => {') + 1;
  assert.deepEqual(
    oversizeIn('lambda/x.ts', text)
      .filter((o) => o.id !== 'lambda/x.ts')
      .map((o) => [o.id, o.lines]),
    [
      ['lambda/x.ts a', 61],
      ['lambda/x.ts b', 61],
      ['lambda/x.ts K.m', 61],
      [`lambda/x.ts (anonymous, line ${callbackLine})`, 61],
    ],
  );
  const long = `${Array.from({ length: 301 }, (_, i) => `const v${i} = ${i};`).join('\n')}\n`;
  assert.deepEqual(oversizeIn('infra/y.ts', long).map((o) => [o.id, o.lines]), [['infra/y.ts', 301]]);
  assert.deepEqual(oversizeIn('infra/y.ts', long.split('\n').slice(1).join('\n')), []);
});

test('a marker with a written reason, right above the declaration, lets long code stand; nothing else does', () => {
  const fn = body('export const f = (): void => {', 61, '};');
  const check = (text: string, allowed: Record<string, string> = {}): string[] => sizeProblems(new Map([['lambda/z.ts', text]]), allowed);
  assert.equal(check(fn).length, 1);
  assert.match(check(fn)[0] ?? '', /lambda\/z\.ts f \(line 1\): 61 lines, over 60; split it, or write why not as \/\/ size: <reason> right above line 1/);
  assert.deepEqual(check(`/** Doc. */\n// size: one table of cases, read top to bottom\n${fn}`), []);
  // Above the declaration, not above the arrow, when a formatter wraps it onto its own line.
  assert.deepEqual(check(`// size: one table of cases, read top to bottom\nexport const w =\n  ${fn.replace('export const f = ', '')}`), []);
  // A marker above the doc comment is not right above the declaration.
  assert.equal(check(`// size: one table of cases, read top to bottom\n/** Doc. */\n${fn}`).length, 2);
  assert.match(check(`// size: long\n${fn}`).join('\n'), /needs a written reason, got "long"/);
  assert.match(check(`// size: one table of cases, read top to bottom\nconst g = 1;\n`).join('\n'), /z\.ts:1: a \/\/ size: marker with nothing over the limit/);
  assert.deepEqual(check(fn, { 'lambda/z.ts f': 'why' }), []);
  assert.match(check('const g = 1;\n', { 'lambda/z.ts f': 'why' }).join('\n'), /lambda\/z\.ts f: listed in ALLOWED but not over its limit/);
});
