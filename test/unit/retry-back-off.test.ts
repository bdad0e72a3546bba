/**
 * The back-off between failed issuance attempts, and what a found Job means (src/issuance/attempts.ts), by
 * tables: 1 minute doubling up to 1 day by default, the CA's Retry-After honoured when later (up to 7
 * days), a failure not yet recorded backed off from the Job's end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Job } from '@kubernetes/client-node';
import {
  jobStanding,
  nextAttemptAt,
  readIssuanceJob,
  retryDelayMs,
  type IssuanceJob,
  type JobStanding,
} from '../../src/issuance/attempts.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const settings = { initialIntervalMs: MINUTE, maxIntervalMs: DAY };

describe('retry delay', () => {
  const table: [failures: number, delay: number][] = [
    [1, MINUTE],
    [2, 2 * MINUTE],
    [3, 4 * MINUTE],
    [6, 32 * MINUTE],
    [11, 1024 * MINUTE],
    [12, DAY],
    [60, DAY],
    [0, MINUTE],
  ];
  for (const [failures, delay] of table) {
    it(`waits ${delay / MINUTE} min after ${failures} failure(s) in a row`, () => {
      assert.equal(retryDelayMs(failures, settings), delay);
    });
  }
});

describe('next attempt', () => {
  const at = Date.UTC(2026, 11, 3, 12);
  const table: [what: string, failures: number, caRetryAt: number | undefined, expected: number][] = [
    ['the back-off alone', 3, undefined, at + 4 * MINUTE],
    ["the CA's Retry-After when later", 1, at + HOUR, at + HOUR],
    ['the back-off when the CA asks for less', 5, at + MINUTE, at + 16 * MINUTE],
    ["the CA's Retry-After capped at 7 days", 1, at + 30 * DAY, at + 7 * DAY],
  ];
  for (const [what, failures, caRetryAt, expected] of table) {
    it(`takes ${what}`, () => {
      assert.equal(nextAttemptAt(at, failures, settings, caRetryAt), expected);
    });
  }
});

describe('standing of the Job of the current need', () => {
  const now = Date.UTC(2026, 11, 3, 12);
  const job = (fields: Partial<IssuanceJob>): IssuanceJob => ({
    name: 'kube-lego-shop-tls-0123456789',
    uid: 'uid-1',
    previousFailures: 0,
    ...fields,
  });
  const table: [what: string, found: IssuanceJob | undefined, expected: JobStanding][] = [
    ['no Job: launch', undefined, { state: 'none' }],
    ['a running Job: wait for it', job({}), { state: 'running' }],
    [
      'a succeeded Job: stale, no failures to carry',
      job({ finished: { succeeded: true, at: now - HOUR }, previousFailures: 2 }),
      { state: 'stale', failures: 0 },
    ],
    [
      'a recorded failure before its retry time: backing off',
      job({ finished: { succeeded: false, at: now - MINUTE }, failures: 3, retryAt: now + MINUTE }),
      { state: 'backingOff', retryAt: now + MINUTE, failures: 3 },
    ],
    [
      'a recorded failure at its retry time: stale, carrying its failures',
      job({ finished: { succeeded: false, at: now - HOUR }, failures: 3, retryAt: now }),
      { state: 'stale', failures: 3 },
    ],
    [
      'a failure not recorded yet: backing off from its end, one more than before it',
      job({ finished: { succeeded: false, at: now - MINUTE }, previousFailures: 1 }),
      { state: 'backingOff', retryAt: now + MINUTE, failures: 2 },
    ],
    [
      'a failure not recorded whose back-off has run out: stale',
      job({ finished: { succeeded: false, at: now - 3 * MINUTE }, previousFailures: 1 }),
      { state: 'stale', failures: 2 },
    ],
  ];
  for (const [what, found, expected] of table) {
    it(what, () => {
      assert.deepEqual(jobStanding(found, now, settings), expected);
    });
  }
});

describe('the attempt record read from a Job', () => {
  it('reads the annotations and the end condition', () => {
    const ended = new Date(Date.UTC(2026, 11, 3, 12));
    const manifest: V1Job = {
      metadata: {
        name: 'kube-lego-shop-tls-0123456789',
        uid: 'uid-1',
        annotations: {
          'kube-lego.io/previous-failures': '2',
          'kube-lego.io/failures': '3',
          'kube-lego.io/retry-at': '2026-12-03T12:04:00.000Z',
          'kube-lego.io/outcome-recorded': 'SelfCheckFailed',
        },
      },
      status: { conditions: [{ type: 'Failed', status: 'True', lastTransitionTime: ended }] },
    };
    assert.deepEqual(readIssuanceJob(manifest), {
      name: 'kube-lego-shop-tls-0123456789',
      uid: 'uid-1',
      finished: { succeeded: false, at: ended.getTime() },
      previousFailures: 2,
      failures: 3,
      retryAt: Date.UTC(2026, 11, 3, 12, 4),
      outcomeRecorded: 'SelfCheckFailed',
    });
  });

  it('reads a running Job without annotations as a first attempt', () => {
    assert.deepEqual(readIssuanceJob({ metadata: { name: 'job', uid: 'uid-2' }, status: { active: 1 } }), {
      name: 'job',
      uid: 'uid-2',
      previousFailures: 0,
    });
  });

  it('reads a bad count as 0 and a bad time as none', () => {
    const read = readIssuanceJob({
      metadata: {
        name: 'job',
        uid: 'uid-3',
        annotations: { 'kube-lego.io/previous-failures': '-1', 'kube-lego.io/retry-at': 'soon' },
      },
    });
    assert.deepEqual(read, { name: 'job', uid: 'uid-3', previousFailures: 0 });
  });
});
