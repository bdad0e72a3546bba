/** The cache of the CA's renewal windows: asks at the CA's Retry-After, not at every check. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RenewalInfoCache } from '../../src/acme/renewal-info-cache.ts';
import {
  RenewalInfoError,
  type RenewalInfoAnswer,
  type RenewalInfoSource,
} from '../../src/acme/renewal-info.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.parse('2026-12-03T12:00:00Z');

/** A CA whose answers the test sets, counting the asks. */
function fakeCa(answer: () => RenewalInfoAnswer | undefined | Error) {
  const asks: string[] = [];
  const source: RenewalInfoSource = {
    async ask(certificateId) {
      asks.push(certificateId);
      const given = answer();
      if (given instanceof Error) throw given;
      return given;
    },
  };
  return { source, asks };
}

describe('renewal information cache', () => {
  it('asks once per Retry-After however often the certificate is checked, and knows the window between', async () => {
    const window = { start: NOW + 30 * DAY, end: NOW + 32 * DAY };
    const ca = fakeCa(() => ({ window, retryAfterMs: 6 * HOUR }));
    const cache = new RenewalInfoCache(ca.source);
    assert.equal(cache.known('id', NOW), undefined, 'nothing known before the first ask');
    const first = await cache.refresh('id', NOW);
    assert.equal(first.asked, true);
    assert.ok(first.renewal!.renewAt >= window.start && first.renewal!.renewAt < window.end);
    for (let minutes = 1; minutes < 360; minutes += 59) {
      const later = await cache.refresh('id', NOW + minutes * 60_000);
      assert.equal(later.asked, false);
      assert.equal(later.renewal!.renewAt, first.renewal!.renewAt);
    }
    assert.equal(cache.known('id', NOW + HOUR)?.renewAt, first.renewal!.renewAt);
    assert.equal((await cache.refresh('id', NOW + 6 * HOUR)).asked, true);
    assert.deepEqual(ca.asks, ['id', 'id']);
  });

  it('renews at once when the CA moves the window into the past at its next answer', async () => {
    let window = { start: NOW + 30 * DAY, end: NOW + 32 * DAY };
    const cache = new RenewalInfoCache(fakeCa(() => ({ window, retryAfterMs: 6 * HOUR })).source);
    await cache.refresh('id', NOW);
    window = { start: NOW - HOUR, end: NOW - HOUR + 1000 };
    assert.ok((await cache.refresh('id', NOW + HOUR)).renewal!.renewAt > NOW + HOUR, 'not asked again yet');
    const moved = await cache.refresh('id', NOW + 6 * HOUR);
    assert.equal(moved.renewal!.renewAt, NOW + 6 * HOUR);
  });

  it('keeps the last window when an ask fails, and asks again in an hour', async () => {
    const window = { start: NOW + 30 * DAY, end: NOW + 32 * DAY };
    let fail = false;
    const ca = fakeCa(() => (fail ? new RenewalInfoError('GET answered 503', 503) : { window }));
    const cache = new RenewalInfoCache(ca.source);
    const first = await cache.refresh('id', NOW);
    fail = true;
    const failed = await cache.refresh('id', NOW + 12 * HOUR);
    assert.equal(failed.error, 'GET answered 503');
    assert.equal(failed.renewal!.renewAt, first.renewal!.renewAt);
    assert.equal((await cache.refresh('id', NOW + 12 * HOUR + HOUR - 1)).asked, false);
    assert.equal((await cache.refresh('id', NOW + 13 * HOUR)).asked, true);
  });

  it('gives no time for a CA without renewal information, and asks again twice a day', async () => {
    const ca = fakeCa(() => undefined);
    const cache = new RenewalInfoCache(ca.source);
    assert.deepEqual(await cache.refresh('id', NOW), { renewal: undefined, asked: true });
    assert.equal((await cache.refresh('id', NOW + 11 * HOUR)).asked, false);
    assert.equal((await cache.refresh('id', NOW + 12 * HOUR)).asked, true);
  });

  it('asks once for a certificate two runs refresh at the same time', async () => {
    const ca = fakeCa(() => ({ window: { start: NOW + DAY, end: NOW + 2 * DAY } }));
    const cache = new RenewalInfoCache(ca.source);
    await Promise.all([cache.refresh('id', NOW), cache.refresh('id', NOW)]);
    assert.equal(ca.asks.length, 1);
  });

  it('forgets certificates not checked for three days', async () => {
    const cache = new RenewalInfoCache(
      fakeCa(() => ({ window: { start: NOW + DAY, end: NOW + 2 * DAY } })).source,
    );
    await cache.refresh('old', NOW);
    await cache.refresh('current', NOW + 3 * DAY + HOUR);
    assert.equal(cache.size, 1);
    assert.equal(cache.known('old', NOW + 3 * DAY + HOUR), undefined);
  });
});
