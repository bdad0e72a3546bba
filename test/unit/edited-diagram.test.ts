/**
 * The diagram is the program: edited copies of the shipped diagram change what runs, with no code change,
 * and a diagram naming an implementation tasks/ lacks fails at start, naming the element.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DefinitionError } from '../../src/process/definition.ts';
import { testCertificate } from '../support/certificates.ts';
import { issuedCertificate, request } from './certificate-request.ts';
import { lifecycleHarness, lifecycleXml, runThrough } from './lifecycle-harness.ts';

const DAY = 86_400_000;

describe('edited lifecycle diagram', () => {
  it('fails at start naming the element id and the missing implementation', async () => {
    const xml = (await lifecycleXml()).replace(
      '${environment.services.recordFailure}',
      '${environment.services.pageOnCall}',
    );
    await assert.rejects(lifecycleHarness(xml), (error: Error) => {
      assert.ok(error instanceof DefinitionError);
      assert.match(error.message, /Task_RecordFailure/);
      assert.match(error.message, /"pageOnCall"/);
      assert.match(
        error.message,
        /available: adoptIssuanceJob, checkRenewalWindow, claimJobSlot, deduplicate, findIssuanceJob, inspectCertificate/,
      );
      return true;
    });
  });

  it('fails at start when a service task has no implementation expression', async () => {
    const xml = (await lifecycleXml()).replace(
      ' camunda:expression="${environment.services.deduplicate}"',
      '',
    );
    await assert.rejects(
      lifecycleHarness(xml),
      /service task "Deduplicate" \(id Task_Deduplicate\) has no implementation/,
    );
  });

  it('reads the timer cycle from the diagram', async () => {
    const { definition } = await lifecycleHarness();
    assert.deepEqual(definition.timerCycle, { intervalMs: 3_600_000, repetitions: undefined });
    const edited = await lifecycleHarness((await lifecycleXml()).replace('R/PT1H', 'R/PT15M'));
    assert.deepEqual(edited.definition.timerCycle, { intervalMs: 900_000, repetitions: undefined });
  });

  it('runs tasks in the order the diagram gives: inspect before deduplicate', async () => {
    // Swap the two tasks' implementations and names: the flow is now Inspect -> Collapsed? -> Deduplicate.
    const xml = (await lifecycleXml())
      .replace(
        'name="Deduplicate" camunda:expression="${environment.services.deduplicate}"',
        'name="First" camunda:expression="${environment.services.inspectCertificate}"',
      )
      .replace(
        'name="Inspect certificate" camunda:expression="${environment.services.inspectCertificate}"',
        'name="Second" camunda:expression="${environment.services.deduplicate}"',
      )
      .replace(
        '${environment.output.deduplicate.collapsed}',
        '${environment.output.inspectCertificate.valid}',
      )
      .replace(
        '${environment.output.inspectCertificate.valid}</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>\n    <bpmn:sequenceFlow id="Flow_Invalid"',
        '${environment.output.deduplicate.collapsed}</bpmn:conditionExpression>\n    </bpmn:sequenceFlow>\n    <bpmn:sequenceFlow id="Flow_Invalid"',
      );
    const { runner, cluster, clock, config } = await lifecycleHarness(xml);
    const pair = testCertificate({
      hosts: ['shop.test'],
      notBefore: new Date(clock.now - DAY),
      notAfter: new Date(clock.now + 89 * DAY),
    });
    cluster.writeCertificate(issuedCertificate(request(), pair, config));
    const valid = await runThrough(runner, cluster, {
      start: 'message',
      token: request(),
      key: 'shop/shop-tls',
    });
    // A valid certificate now ends at the first gateway, before deduplication ever runs.
    assert.deepEqual(
      valid.path.filter((id) => id.startsWith('Task_')),
      ['Task_Deduplicate'],
    );
    assert.equal(valid.end, 'collapsed');
    assert.ok('inspectCertificate' in valid.output && !('deduplicate' in valid.output));
  });

  it('runs a task added to the diagram that uses an existing implementation', async () => {
    // A second "Record issuance" step in front of the end: two Normal Events instead of one.
    const xml = (await lifecycleXml()).replace(
      '<bpmn:sequenceFlow id="Flow_IssuanceRecorded" sourceRef="Task_RecordIssuance" targetRef="EndEvent_Issued" />',
      '<bpmn:sequenceFlow id="Flow_IssuanceRecorded" sourceRef="Task_RecordIssuance" targetRef="Task_Announce" />\n' +
        '<bpmn:serviceTask id="Task_Announce" name="Announce" camunda:expression="${environment.services.recordIssuance}" />\n' +
        '<bpmn:sequenceFlow id="Flow_Announced" sourceRef="Task_Announce" targetRef="EndEvent_Issued" />',
    );
    const { runner, cluster } = await lifecycleHarness(xml);
    cluster.outcome = () => ({ succeeded: true, reason: 'Issued', message: '' });
    const result = await runThrough(runner, cluster, {
      start: 'message',
      token: request(),
      key: 'shop/shop-tls',
    });
    assert.equal(result.end, 'issued');
    assert.ok(result.path.includes('Task_Announce'));
    assert.equal(cluster.events.filter((event) => event.reason === 'CertificateIssued').length, 2);
  });

  it('refuses a joining parallel gateway, naming it', async () => {
    const xml = (await lifecycleXml()).replace(
      '<bpmn:serviceTask id="Task_RecordFailure"',
      '<bpmn:parallelGateway id="Gateway_Join" name="Join"><bpmn:incoming>Flow_A</bpmn:incoming><bpmn:incoming>Flow_B</bpmn:incoming></bpmn:parallelGateway>\n' +
        '<bpmn:startEvent id="Start_A"><bpmn:outgoing>Flow_A</bpmn:outgoing></bpmn:startEvent><bpmn:startEvent id="Start_B"><bpmn:outgoing>Flow_B</bpmn:outgoing></bpmn:startEvent>\n' +
        '<bpmn:sequenceFlow id="Flow_A" sourceRef="Start_A" targetRef="Gateway_Join" /><bpmn:sequenceFlow id="Flow_B" sourceRef="Start_B" targetRef="Gateway_Join" />\n' +
        '<bpmn:serviceTask id="Task_RecordFailure"',
    );
    await assert.rejects(lifecycleHarness(xml), /gateway "Join" \(id Gateway_Join\) joins 2 flows/);
  });
});
