/** ACME Renewal Information decisions: when to renew inside the CA's window, when to ask again. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  followedCaRenewalTime,
  nextRenewalInfoAsk,
  renewalTimeInWindow,
  type RenewalInfoAsked,
} from '../../src/certificate/renewal-information.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-12-03T12:00:00Z');

describe('renewal time inside the CA window', () => {
  const window = { start: NOW + 30 * DAY, end: NOW + 32 * DAY };

  it('lies inside the window', () => {
    for (let i = 0; i < 200; i += 1) {
      const at = renewalTimeInWindow(window, `id-${i}`, NOW);
      assert.ok(at >= window.start && at < window.end, `id-${i}: ${new Date(at).toISOString()}`);
    }
  });

  it('is the same for a certificate every time it is asked (a restart does not move it)', () => {
    assert.equal(
      renewalTimeInWindow(window, 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE', NOW),
      renewalTimeInWindow(window, 'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE', NOW + HOUR),
    );
  });

  it('spreads certificates over the window', () => {
    const quarters = [0, 0, 0, 0];
    for (let i = 0; i < 400; i += 1) {
      const at = renewalTimeInWindow(window, `certificate-${i}`, NOW);
      quarters[Math.floor(((at - window.start) / (window.end - window.start)) * 4)]! += 1;
    }
    for (const count of quarters) assert.ok(count > 60 && count < 140, `quarters: ${quarters.join(', ')}`);
  });

  it('is now for a window the CA moved into the past (revoked: renew at once)', () => {
    assert.equal(renewalTimeInWindow({ start: NOW - HOUR, end: NOW - HOUR + 1000 }, 'id', NOW), NOW);
  });

  it('is inside the window for a window that began and has not ended', () => {
    const at = renewalTimeInWindow({ start: NOW - HOUR, end: NOW + HOUR }, 'id', NOW);
    assert.ok(at >= NOW - HOUR && at < NOW + HOUR);
  });
});

describe('next ask for renewal information', () => {
  const table: [name: string, asked: RenewalInfoAsked, waitMs: number][] = [
    ["at the CA's Retry-After (Pebble's 6 h)", { answered: true, retryAfterMs: 6 * HOUR }, 6 * HOUR],
    ['twice a day without Retry-After', { answered: true }, 12 * HOUR],
    ['a Retry-After of 0 waits 1 min', { answered: true, retryAfterMs: 0 }, MINUTE],
    ['a Retry-After over a day waits a day', { answered: true, retryAfterMs: 7 * DAY }, DAY],
    ['no answer: in an hour', { answered: false }, HOUR],
    ['a 503: in an hour', { answered: false, status: 503 }, HOUR],
    [
      'a 503 with a later Retry-After: at it',
      { answered: false, status: 503, retryAfterMs: 3 * HOUR },
      3 * HOUR,
    ],
    ['a 404 (a certificate the CA does not know): in 6 h', { answered: false, status: 404 }, 6 * HOUR],
  ];
  for (const [name, asked, waitMs] of table) {
    it(name, () => assert.equal(nextRenewalInfoAsk(NOW, asked) - NOW, waitMs));
  }
});

describe("the CA's renewal time as followed", () => {
  const notBefore = NOW;
  const table: [name: string, lifetimeMs: number, caRenewAt: number, followed: number][] = [
    ["earlier than the lifetime rule: the CA's", 90 * DAY, NOW + 40 * DAY, NOW + 40 * DAY],
    ["later than the rule, inside half its margin: the CA's", 90 * DAY, NOW + 70 * DAY, NOW + 70 * DAY],
    ['past half the margin (15 of 30 days): 15 days before expiry', 90 * DAY, NOW + 89 * DAY, NOW + 75 * DAY],
    [
      'a 6-day certificate (margin 3 days): not past 1.5 days before expiry',
      6 * DAY,
      NOW + 6 * DAY - HOUR,
      NOW + 4.5 * DAY,
    ],
  ];
  for (const [name, lifetimeMs, caRenewAt, followed] of table) {
    it(name, () =>
      assert.equal(followedCaRenewalTime(caRenewAt, notBefore, notBefore + lifetimeMs, 720 * HOUR), followed),
    );
  }
});
