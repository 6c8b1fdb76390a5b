/**
 * Which Node.js runs the tests: the npm scripts name the major they mean to test with
 * (EXPECT_NODE_MAJOR: 24 for the Lambda's runtime from test/node24, the machine's own otherwise),
 * so a run on the wrong binary fails instead of passing for the wrong runtime. The CLI and
 * s3rver child processes are started with process.execPath (test/helpers.ts, test/fakes/s3rver.ts),
 * so they run on the same binary; checked here for the CLI.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

/** Majors the README says the tests run on. */
const TESTED = ['20', '22', '24'];

test('the tests run on the Node.js major the script expects, and so do the child processes', () => {
  const major = process.version.slice(1).split('.')[0] as string;
  const expected = process.env.EXPECT_NODE_MAJOR;
  if (expected) assert.equal(major, expected, `running on ${process.version}, expected Node.js ${expected}`);
  else assert.ok(TESTED.includes(major), `Node.js ${process.version} is not one the tests support (${TESTED.join(', ')})`);
  const child = execFileSync(process.execPath, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
  assert.equal(child, process.version);
});
