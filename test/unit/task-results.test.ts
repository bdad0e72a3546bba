/** What of a task's result reaches a log line, and how a failed step names the Job's outcome. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { loggableResult } from '../../src/process/runner.ts';
import { failureOutcome } from '../../tasks/issuance/report.ts';
import { describeFailure } from '../../tasks/record-failure.ts';

it('logs only plain fields of a result, never fields that may hold keys', () => {
  assert.deepEqual(
    loggableResult({
      valid: true,
      reason: 'Valid',
      notAfter: 5,
      keyPem: '-----BEGIN PRIVATE KEY-----',
      accountKeyPem: 'x',
      secret: 's',
      token: 't',
      keyAuthorization: 'k',
      chain: { chainPem: 'c' },
      client: { request() {} },
    }),
    { valid: true, reason: 'Valid', notAfter: 5 },
  );
});

it('names a Job failure after the step that failed', () => {
  assert.deepEqual(
    failureOutcome({
      activityId: 'Task_SelfCheck',
      activityName: 'Self-check challenge URLs',
      implementation: 'selfCheck',
      message: 'host a.test: 404',
    }),
    { succeeded: false, reason: 'SelfCheckFailed', message: 'Self-check challenge URLs: host a.test: 404' },
  );
  assert.equal(failureOutcome(undefined).reason, 'IssuanceFailed');
});

it('records an operator-side failure from the error, else from the Job outcome', () => {
  assert.deepEqual(
    describeFailure({
      error: {
        activityId: 'T',
        activityName: 'Launch issuance Job',
        implementation: 'launchIssuanceJob',
        message: 'forbidden',
      },
    }),
    { reason: 'IssuanceError', message: 'Launch issuance Job: forbidden' },
  );
  assert.deepEqual(
    describeFailure({ readJobOutcome: { succeeded: false, reason: 'OrderRejected', message: 'no' } }),
    {
      reason: 'OrderRejected',
      message: 'no',
    },
  );
});

it("carries the CA's time to ask again from the failed step to the Job's outcome, and on to the back-off", () => {
  const retryAt = Date.UTC(2026, 11, 3, 14);
  const outcome = failureOutcome({
    activityId: 'Task_CreateOrder',
    activityName: 'Create order',
    implementation: 'createOrder',
    message: 'rateLimited: too many new orders',
    retryAt,
  });
  assert.equal(outcome.retryAt, '2026-12-03T14:00:00.000Z');
  assert.deepEqual(describeFailure({ readJobOutcome: outcome }), {
    reason: 'CreateOrderFailed',
    message: 'Create order: rateLimited: too many new orders',
    caRetryAt: retryAt,
  });
});
