/** Where runs stand on the diagram, for the live view: fed by the runner's activity events and run ends. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config.ts';
import { ProcessActivity } from '../../src/view/process-activity.ts';
import { request } from './certificate-request.ts';
import { lifecycleHarness, silentLog } from './lifecycle-harness.ts';
import { Deduplicator } from '../../src/process/deduplicator.ts';
import { ProcessRunner } from '../../src/process/runner.ts';
import { lifecycleTasks } from '../../tasks/index.ts';
import { JobSlots } from '../../src/issuance/job-slots.ts';

const HOUR = 3_600_000;

describe('process activity', () => {
  it('shows a run at the element its token is in, and nowhere once it left', () => {
    const clock = { now: 1000 };
    const activity = new ProcessActivity('p', () => clock.now);
    activity.activity({
      run: 'run-1',
      key: 'shop/a',
      element: 'Task_InspectCertificate',
      type: 'bpmn:ServiceTask',
      phase: 'enter',
    });
    activity.activity({
      run: 'run-2',
      key: 'shop/b',
      element: 'Task_InspectCertificate',
      type: 'bpmn:ServiceTask',
      phase: 'enter',
    });
    assert.deepEqual(
      activity.snapshot().elements['Task_InspectCertificate']!.standing.map((entry) => entry.certificate),
      ['shop/a', 'shop/b'],
    );
    activity.activity({
      run: 'run-1',
      key: 'shop/a',
      element: 'Task_InspectCertificate',
      type: 'bpmn:ServiceTask',
      phase: 'leave',
    });
    activity.activity({
      run: 'run-2',
      key: 'shop/b',
      element: 'Task_InspectCertificate',
      type: 'bpmn:ServiceTask',
      phase: 'leave',
    });
    assert.equal(activity.snapshot().elements['Task_InspectCertificate'], undefined);
  });

  it('counts the runs that ended at each end event for an hour, by reason, listing the newest', () => {
    const clock = { now: 0 };
    const activity = new ProcessActivity('p', () => clock.now);
    activity.runEnded('shop/a', 'EndEvent_Failed', 'SelfCheckFailed');
    clock.now = 10 * 60_000;
    activity.runEnded('shop/b', 'EndEvent_Failed', 'SelfCheckFailed');
    activity.runEnded('shop/c', 'EndEvent_Failed', 'OrderRejected');
    const failed = activity.snapshot().elements['EndEvent_Failed']!;
    assert.equal(failed.endedCount, 3);
    assert.deepEqual(failed.endedByReason, { SelfCheckFailed: 2, OrderRejected: 1 });
    assert.equal(failed.ended[0]!.certificate, 'shop/c');
    clock.now = HOUR + 5 * 60_000;
    assert.equal(
      activity.snapshot().elements['EndEvent_Failed']!.endedCount,
      2,
      'the first is over an hour old',
    );
  });

  it('shows a certificate waiting at "launched" for its Job until the Job finishes', () => {
    const activity = new ProcessActivity('p', () => 5);
    activity.wait('shop/a', 'EndEvent_JobLaunched', 'its issuance Job');
    assert.deepEqual(activity.snapshot().elements['EndEvent_JobLaunched']!.waiting, [
      { certificate: 'shop/a', at: 5, reason: 'its issuance Job' },
    ]);
    activity.stopWaiting('shop/a');
    assert.equal(activity.snapshot().elements['EndEvent_JobLaunched'], undefined);
  });

  it('keeps a bounded number of ended runs', () => {
    const activity = new ProcessActivity('p', () => 0, HOUR, 100);
    for (let i = 0; i < 250; i += 1) activity.runEnded(`shop/${i}`, 'EndEvent_Valid');
    const valid = activity.snapshot().elements['EndEvent_Valid']!;
    assert.equal(valid.endedCount, 100);
    assert.equal(valid.ended.length, 50);
  });

  it("follows a real run through the shipped diagram: each element entered is left, in the diagram's order", async () => {
    const { cluster, definition } = await lifecycleHarness();
    const events: string[] = [];
    const services = {
      config: parseConfig({}),
      cluster,
      deduplicator: new Deduplicator(),
      now: () => Date.now(),
      taskFailures: new Map(),
      jobSlots: new JobSlots(parseConfig({}).maxJobsInFlight),
    };
    const runner = new ProcessRunner(definition, lifecycleTasks, services, silentLog, {
      onActivity: (event) => events.push(`${event.phase} ${event.element}`),
    });
    const result = await runner.run({ start: 'message', token: request(), key: 'shop/shop-tls' });
    assert.equal(result.end, 'launched');
    const entered = events.filter((event) => event.startsWith('enter ')).map((event) => event.slice(6));
    const left = events.filter((event) => event.startsWith('leave ')).map((event) => event.slice(6));
    assert.deepEqual(entered.slice(0, 3), [
      'StartEvent_IngressChanged',
      'Task_Deduplicate',
      'Gateway_Collapsed',
    ]);
    assert.ok(entered.includes('EndEvent_JobLaunched'));
    assert.deepEqual([...left].sort(), [...entered].sort(), 'every element entered is left');
  });
});
