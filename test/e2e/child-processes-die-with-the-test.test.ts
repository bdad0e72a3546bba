/**
 * A test process that is told to terminate takes what it started with it (test/support/exit-guard.ts), so
 * no server outlives a cancelled run and holds its ports.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';

/** Whether `pid` runs: a zombie (killed, not yet reaped by whoever adopted it) does not. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

it('kills the children of a test process on SIGTERM, and the process still ends by the signal', async () => {
  const script = `
    import { startProcess } from './test/support/processes.ts';
    startProcess('sleeper', 'sleep', ['1000']);
    setTimeout(() => process.stdout.write('started\\n'), 200);
    setInterval(() => {}, 1000);
  `;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(parent.stdout!, 'data');
  const childPid = Number(
    execFileSync('pgrep', ['-P', String(parent.pid), 'sleep'])
      .toString()
      .trim(),
  );
  assert.ok(alive(childPid), 'the child runs');
  parent.kill('SIGTERM');
  const [code, signal] = (await once(parent, 'exit')) as [number | null, NodeJS.Signals | null];
  assert.deepEqual([code, signal], [null, 'SIGTERM']);
  for (let attempt = 0; attempt < 50 && alive(childPid); attempt += 1)
    await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(alive(childPid), false, 'the child was killed with its parent');
});
