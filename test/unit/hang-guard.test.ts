/**
 * The hang guard (test/support/hang-guard.ts) that every test file of `npm test` runs with: a file whose
 * tests pass but whose process would not end fails in bounded time, naming what kept it alive, and every
 * one of its tests is still reported.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const FIXTURE = fileURLToPath(new URL('../support/hang-fixtures/leaves-a-server-open.ts', import.meta.url));
const GUARD = fileURLToPath(new URL('../support/hang-guard.ts', import.meta.url));

it('fails a file left running after its tests, names the open handle, and keeps every test reported', async () => {
  const started = Date.now();
  // Without NODE_TEST_CONTEXT, which tells a process it is a test file and makes `--test` refuse to run.
  const { NODE_TEST_CONTEXT: _, ...env } = process.env;
  const child = spawn(process.execPath, ['--test', '--import', GUARD, FIXTURE], {
    env: { ...env, KUBE_LEGO_HANG_GRACE_MS: '500' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 1, output);
  assert.match(
    output,
    /hang guard: .*leaves-a-server-open\.ts still running 0\.5 s after its last test, kept alive by: .*TCPServerWrap/,
  );
  // The 101 tests of the file passed and were all reported; the file itself counts as one failed test.
  assert.match(output, /^ℹ pass 101$/m);
  assert.match(output, /^ℹ fail 1$/m);
  assert.ok(Date.now() - started < 30_000, 'ended in bounded time');
});
