/**
 * The leader election's decision, by table: create a missing Lease, renew our own, take a released one at
 * once, and another's only once it went unrenewed for its duration by this replica's clock.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { leaseAction, type LeaseObservation, type LeaseRecord } from '../../src/leader/lease-decision.ts';

const now = 1_000_000;
const lease = (holder: string | undefined, renewTime = 500): LeaseRecord => ({
  holder,
  durationMs: 10_000,
  renewTime,
  transitions: 1,
});
const seen = (holder: string, renewTime: number, observedAt: number): LeaseObservation => ({
  holder,
  renewTime,
  observedAt,
});

const table: [
  what: string,
  record: LeaseRecord | undefined,
  previous: LeaseObservation | undefined,
  action: string,
][] = [
  ['no Lease yet: create it', undefined, undefined, 'create'],
  ['our Lease: renew it', lease('me'), undefined, 'renew'],
  ['a released Lease (no holder): take it at once', lease(''), seen('other', 500, now - 1), 'acquire'],
  ['another holder, first seen now: wait', lease('other'), undefined, 'wait'],
  ['another holder renewing: wait', lease('other', 900), seen('other', 500, now - 60_000), 'wait'],
  [
    'another holder, unrenewed for less than its duration: wait',
    lease('other'),
    seen('other', 500, now - 9_999),
    'wait',
  ],
  [
    'another holder, unrenewed for its duration: take it',
    lease('other'),
    seen('other', 500, now - 10_000),
    'acquire',
  ],
  [
    'a new holder since: wait, whatever its renew time',
    lease('third'),
    seen('other', 500, now - 60_000),
    'wait',
  ],
];
for (const [what, record, previous, action] of table) {
  it(what, () => {
    assert.equal(leaseAction(record, 'me', previous, now).action, action);
  });
}

it("judges expiry by this replica's clock from when it saw the Lease change, not by the holder's clock", () => {
  // The holder's clock is a day behind: its renew time looks ancient, yet it renews.
  const behind = now - 86_400_000;
  let observed = leaseAction(lease('other', behind), 'me', undefined, now).observed;
  assert.equal(leaseAction(lease('other', behind + 2_000), 'me', observed, now + 9_000).action, 'wait');
  observed = leaseAction(lease('other', behind + 2_000), 'me', observed, now + 9_000).observed;
  assert.deepEqual(observed, seen('other', behind + 2_000, now + 9_000));
  assert.equal(leaseAction(lease('other', behind + 2_000), 'me', observed, now + 18_999).action, 'wait');
  assert.equal(leaseAction(lease('other', behind + 2_000), 'me', observed, now + 19_000).action, 'acquire');
});
