/** Every command added for day-to-day use documents itself: an example and its exit codes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers.ts';

for (const command of ['setup', 'run', 'status', 'ls', 'get']) {
  test(`${command} --help shows an example and the exit codes`, async () => {
    const r = await runCli([command, '--help'], {});
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Usage: cloudinary-backup ${command}`));
    assert.match(r.stdout, new RegExp(`Examples?:\\n  (CLOUDINARY_URL=\\S+ )?cloudinary-backup ${command}\\b`));
    assert.match(r.stdout, /Exit codes: 0 /);
  });
}

test('the program lists the new commands', async () => {
  const r = await runCli(['--help'], {});
  for (const command of ['setup', 'run', 'status', 'ls', 'get']) assert.match(r.stdout, new RegExp(`\\n  ${command} `));
});
