/**
 * The runner's task observer (what feeds kube_lego_task_duration_seconds): called once per service task
 * with its implementation, seconds and whether it failed; an observer that throws costs a log line, not
 * the run.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { createLogger } from '../../src/log.ts';
import { ProcessRunner, type RunnerOptions } from '../../src/process/runner.ts';
import { lifecycleTasks } from '../../tasks/index.ts';
import type { LifecycleServices, LifecycleToken } from '../../tasks/services.ts';
import { request } from './certificate-request.ts';
import { lifecycleHarness } from './lifecycle-harness.ts';
import { JobSlots } from '../../src/issuance/job-slots.ts';

/** A runner of the shipped diagram over a fake cluster, reporting to `options`; `lines` its log lines. */
async function observedRunner(options: RunnerOptions) {
  const { cluster, deduplicator, clock, config, definition } = await lifecycleHarness();
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({
    level: 'debug',
    type: 'json',
    destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  });
  const services: LifecycleServices = {
    config,
    cluster,
    deduplicator,
    now: () => clock.now,
    taskFailures: new Map(),
    jobSlots: new JobSlots(config.maxJobsInFlight),
  };
  const runner = new ProcessRunner<LifecycleServices, LifecycleToken>(
    definition,
    lifecycleTasks,
    services,
    log,
    options,
  );
  return { runner, cluster, lines };
}

it('reports each service task of a run once, in order, with its seconds and whether it failed', async () => {
  const ended: [string, number, boolean][] = [];
  const { runner, cluster } = await observedRunner({
    onTaskEnd: (task, seconds, failed) => ended.push([task, seconds, failed]),
  });
  cluster.readError = new Error('secrets "shop-tls" is forbidden');
  const result = await runner.run({ start: 'message', token: request(), key: 'shop/shop-tls' });
  assert.equal(result.end, 'failed');
  assert.deepEqual(
    ended.map(([task, , failed]) => [task, failed]),
    [
      ['deduplicate', false],
      ['inspectCertificate', true],
      ['recordFailure', false],
    ],
  );
  for (const [task, seconds] of ended) {
    assert.ok(seconds >= 0 && seconds < result.durationMs / 1000 + 0.001, `${task}: ${seconds} s`);
  }
});

it('ends the run as without an observer when the observer throws, and logs that it failed', async () => {
  const { runner, lines } = await observedRunner({
    onTaskEnd: () => {
      throw new Error('observer broke');
    },
  });
  const result = await runner.run({ start: 'message', token: request(), key: 'shop/shop-tls' });
  assert.equal(result.end, 'launched');
  assert.deepEqual(Object.keys(result.output), [
    'deduplicate',
    'inspectCertificate',
    'findIssuanceJob',
    'claimJobSlot',
    'launchIssuanceJob',
  ]);
  const failures = lines.filter((line) => line.msg === 'task observer failed');
  assert.equal(failures.length, 5);
  assert.equal(failures[0]!.error, 'observer broke');
});
