/** How long before expiry a certificate is renewed, scaled by its lifetime. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renewalTime, renewBeforeMs } from '../../src/certificate/renewal.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** kube-lego's LEGO_MINIMUM_VALIDITY default. */
const MIN_VALIDITY = 720 * HOUR;

describe('renewBeforeMs', () => {
  const table: [name: string, lifetimeMs: number, minimumValidityMs: number, renewBeforeMs: number][] = [
    ['90-day certificate: 720h (a third of its life)', 90 * DAY, MIN_VALIDITY, 30 * DAY],
    ['45-day certificate: a third, 15 days', 45 * DAY, MIN_VALIDITY, 15 * DAY],
    ['64-day certificate: a third, 64/3 days', 64 * DAY, MIN_VALIDITY, (64 * DAY) / 3],
    ['6-day shortlived certificate: half, 3 days', 6 * DAY, MIN_VALIDITY, 3 * DAY],
    ['6-day certificate ignores a small minimum validity: half', 6 * DAY, HOUR, 3 * DAY],
    ['90-day certificate, 7-day minimum validity: the minimum wins', 90 * DAY, 7 * DAY, 7 * DAY],
    ['45-day certificate, 240h minimum validity: the minimum wins', 45 * DAY, 240 * HOUR, 10 * DAY],
    ['365-day certificate: capped at the minimum validity', 365 * DAY, MIN_VALIDITY, 30 * DAY],
    ['exactly 10 days: a third, no longer half', 10 * DAY, MIN_VALIDITY, (10 * DAY) / 3],
    ['just under 10 days: half', 10 * DAY - 1, MIN_VALIDITY, (10 * DAY - 1) / 2],
    ['exactly 10 days, 1-day minimum validity: the minimum wins', 10 * DAY, DAY, DAY],
  ];
  for (const [name, lifetimeMs, minimumValidityMs, expected] of table) {
    it(name, () => {
      assert.equal(renewBeforeMs(lifetimeMs, minimumValidityMs), expected);
    });
  }

  it('never renews before the certificate is valid, nor after it expires', () => {
    for (const days of [1, 3, 6, 7, 9, 10, 14, 30, 45, 64, 90, 200]) {
      for (const minimum of [HOUR, DAY, 7 * DAY, MIN_VALIDITY, 100 * DAY]) {
        const before = renewBeforeMs(days * DAY, minimum);
        assert.ok(before > 0 && before < days * DAY, `${days} days, minimum ${minimum}: ${before}`);
      }
    }
  });
});

describe('renewalTime', () => {
  const notBefore = Date.parse('2025-01-01T00:00:00Z');
  const table: [name: string, lifetimeMs: number, minimumValidityMs: number, renewAt: string][] = [
    ['90-day certificate', 90 * DAY, MIN_VALIDITY, '2025-03-02T00:00:00.000Z'],
    ['45-day certificate', 45 * DAY, MIN_VALIDITY, '2025-01-31T00:00:00.000Z'],
    ['6-day certificate', 6 * DAY, MIN_VALIDITY, '2025-01-04T00:00:00.000Z'],
    ['10-day certificate', 10 * DAY, MIN_VALIDITY, '2025-01-07T16:00:00.000Z'],
    ['90-day certificate, 7-day minimum', 90 * DAY, 7 * DAY, '2025-03-25T00:00:00.000Z'],
  ];
  for (const [name, lifetimeMs, minimumValidityMs, renewAt] of table) {
    it(`${name}: from ${renewAt}`, () => {
      const at = renewalTime(notBefore, notBefore + lifetimeMs, minimumValidityMs);
      assert.equal(new Date(at).toISOString(), renewAt);
    });
  }

  it('does not depend on when the certificate starts, only on its lifetime', () => {
    for (const start of [0, notBefore, notBefore + 12_345]) {
      assert.equal(
        start + 90 * DAY - renewalTime(start, start + 90 * DAY, MIN_VALIDITY),
        renewBeforeMs(90 * DAY, MIN_VALIDITY),
      );
    }
  });
});
