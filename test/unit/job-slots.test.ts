/**
 * The Job slots' bookkeeping (src/issuance/job-slots.ts): at most `limit` Jobs in flight, claims
 * included; the certificates beyond wait in the order they came and get the freed slots in that order,
 * claimed for them so that no newcomer takes them; a claim without a Job lapses.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JobSlots } from '../../src/issuance/job-slots.ts';

describe('Job slots', () => {
  it('gives slots up to the limit, then makes certificates wait in the order they came', () => {
    const slots = new JobSlots(2);
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((certificate) => slots.claim(certificate, 0)),
      [true, true, false, false],
    );
    assert.equal(slots.inFlight, 2);
    assert.equal(slots.waiting, 2);
  });

  it('counts a claim once: asking again for a certificate that holds a claim or a running Job is yes', () => {
    const slots = new JobSlots(1);
    assert.equal(slots.claim('a', 0), true);
    assert.equal(slots.claim('a', 1), true);
    slots.jobRunning('uid-a', 'a');
    assert.equal(slots.claim('a', 2), true);
    assert.equal(slots.inFlight, 1);
  });

  it('hands a freed slot to the longest-waiting certificate, claimed for it', () => {
    const slots = new JobSlots(1);
    slots.claim('a', 0);
    slots.jobRunning('uid-a', 'a');
    slots.claim('b', 1);
    slots.claim('c', 2);
    assert.deepEqual(slots.jobEnded('uid-a', 3), ['b']);
    assert.equal(slots.claim('new', 4), false, 'the slot is b’s, not a newcomer’s');
    assert.equal(slots.claim('b', 5), true);
    assert.deepEqual(slots.release('b', 6), ['c']);
  });

  it('lets no newcomer overtake a certificate that waits, even while a slot is briefly free', () => {
    const slots = new JobSlots(1);
    slots.claim('a', 0);
    slots.claim('b', 1);
    slots.release('a', 2);
    assert.equal(slots.claim('c', 3), false);
    assert.equal(slots.claim('b', 4), true);
  });

  it('frees the slot of a claim whose Job never came, after claimMs, for the next to wait', () => {
    const slots = new JobSlots(1, 1_000);
    slots.claim('a', 0);
    slots.claim('b', 10);
    assert.deepEqual(slots.due(1_000), [], 'not yet lapsed');
    assert.deepEqual(slots.due(1_001), ['b']);
  });

  it('moves a claim to the Job the watch shows, which holds the slot till it ends', () => {
    const slots = new JobSlots(1, 1_000);
    slots.claim('a', 0);
    slots.jobRunning('uid-a', 'a');
    slots.claim('b', 1);
    assert.deepEqual(slots.due(60_000), [], 'a running Job does not lapse');
    assert.deepEqual(slots.jobEnded('uid-a', 60_001), ['b']);
  });

  it('counts Jobs it never claimed (running when the operator started) against the limit', () => {
    const slots = new JobSlots(2);
    slots.jobRunning('uid-x', 'x');
    slots.jobRunning('uid-y', 'y');
    assert.equal(slots.claim('a', 0), false);
    assert.deepEqual(slots.jobEnded('uid-x', 1), ['a']);
  });

  it('forgets a waiting certificate no Ingress claims any more, handing its turn on', () => {
    const slots = new JobSlots(1);
    slots.claim('a', 0);
    slots.claim('gone', 1);
    slots.claim('c', 2);
    assert.deepEqual(slots.forget('gone', 3), []);
    assert.deepEqual(slots.release('a', 4), ['c']);
    assert.equal(slots.waiting, 0);
  });
});
