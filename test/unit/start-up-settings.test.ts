/**
 * The operator (`node src/main.ts`) checks its settings against the check interval in force once the diagram
 * is loaded: with LEGO_CHECK_INTERVAL unset, an edited diagram's timer that does not fit LEGO_ACME_PROFILE
 * stops start-up with one line naming both and the fix, exit status 2, before any request to the cluster.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';

/** Runs the operator with `env` (and no inherited LEGO_* variable) until it exits. */
function runOperator(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('LEGO_')),
  );
  const child = spawn(process.execPath, ['src/main.ts'], {
    cwd: new URL('../../', import.meta.url),
    env: { ...inherited, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
}

it("stops at start when the diagram's timer does not fit the renewal window", async () => {
  const shipped = await readFile(
    new URL('../../processes/certificate-lifecycle.bpmn', import.meta.url),
    'utf8',
  );
  assert.ok(shipped.includes('R/PT1H'), 'the shipped timer');
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-start-'));
  const diagram = join(dir, 'lifecycle.bpmn');
  await writeFile(diagram, shipped.replace('R/PT1H', 'R/PT48H'));
  const { code, stderr } = await runOperator({
    LEGO_LIFECYCLE_PROCESS: diagram,
    LEGO_ACME_PROFILE: 'shortlived',
    // Nothing listens there: a start that went on would fail on the permission check instead.
    LEGO_KUBE_API_URL: 'http://127.0.0.1:9',
  });
  assert.equal(
    stderr,
    'kube-lego: LEGO_ACME_PROFILE="shortlived" does not fit the diagram\'s timer (every 48h): its 6-day ' +
      'certificates are renewed 72h before they expire, which must hold two checks (96h): one to renew, one ' +
      'to retry; set LEGO_CHECK_INTERVAL to 36h or less\n',
  );
  assert.equal(code, 2);
});
