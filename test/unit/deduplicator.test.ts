/** At most one token per key in flight, one waiting, the latest offered wins: adhesive's @deduplicate. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Deduplicator, type Waiter } from '../../src/process/deduplicator.ts';

/** What happened to each waiter: admitted, collapsed, or still waiting. */
class Tally {
  admitted: string[] = [];
  collapsed: string[] = [];
  readonly #told = new Set<string>();

  /** A waiter named `id` that records its fate, and fails the test if told twice. */
  waiter(id: string): Waiter {
    const tell = (list: string[]) => () => {
      assert.ok(!this.#told.has(id), `${id} was told twice`);
      this.#told.add(id);
      list.push(id);
    };
    return { admit: tell(this.admitted), collapse: tell(this.collapsed) };
  }
}

describe('Deduplicator', () => {
  it('a burst of 1,000 offers for one key: 1 admitted at once, the latest on release, 998 collapsed', () => {
    const deduplicator = new Deduplicator();
    const tally = new Tally();
    for (let n = 1; n <= 1000; n += 1) deduplicator.offer('shop/shop-tls', tally.waiter(`t${n}`));
    assert.deepEqual(tally.admitted, ['t1']);
    assert.equal(tally.collapsed.length, 998);
    assert.deepEqual(tally.collapsed.slice(0, 2), ['t2', 't3']);
    assert.equal(tally.collapsed.at(-1), 't999');
    assert.equal(deduplicator.inFlight, 1);
    assert.equal(deduplicator.waiting, 1);

    deduplicator.release('shop/shop-tls');
    assert.deepEqual(tally.admitted, ['t1', 't1000']);
    assert.equal(tally.collapsed.length, 998);
    assert.equal(deduplicator.inFlight, 1);
    assert.equal(deduplicator.waiting, 0);

    deduplicator.release('shop/shop-tls');
    assert.equal(deduplicator.inFlight, 0);
    assert.deepEqual(tally.admitted, ['t1', 't1000']);
  });

  /**
   * 100 keys, 2 bursts of 10 offers per key, and between the bursts every in-flight token is released
   * (and the token each release admits runs to its end too), as adhesive's deduplication-annotation
   * feature sleeps between its two bursts until every run is over.
   *
   * Per key and burst: offer 1 finds the key free and is admitted; offers 2..10 wait, each replacing
   * (collapsing) the one before, so 8 are collapsed and offer 10 waits; the release admits offer 10.
   * That is 2 admitted and 8 collapsed per key per burst, so 2 bursts × 100 keys give 400 admitted and
   * 1,600 collapsed of 2,000 offers. adhesive's own feature (8 keys, 2 bursts) asserts 32 executions:
   * 2 per key per burst, the same rule.
   */
  it('100 keys × 2 bursts of 10 offers: 400 admitted, 1,600 collapsed, as adhesive counts', () => {
    const deduplicator = new Deduplicator();
    const tally = new Tally();
    const keys = Array.from({ length: 100 }, (_, index) => `ns/secret-${index}`);
    const drain = () => {
      while (deduplicator.inFlight > 0) for (const key of keys) deduplicator.release(key);
    };
    for (const burst of [1, 2]) {
      for (let n = 1; n <= 10; n += 1) {
        for (const key of keys) deduplicator.offer(key, tally.waiter(`${key}#${burst}.${n}`));
      }
      assert.equal(tally.admitted.length, 100 + (burst - 1) * 200, `burst ${burst}: 1 per key at once`);
      assert.equal(deduplicator.waiting, 100);
      drain();
      assert.equal(tally.admitted.length, burst * 200, `burst ${burst}: 2 per key`);
      assert.equal(tally.collapsed.length, burst * 800, `burst ${burst}: 8 per key collapsed`);
    }
    assert.equal(tally.admitted.length + tally.collapsed.length, 2000);
    assert.equal(deduplicator.inFlight, 0);
    assert.equal(deduplicator.waiting, 0);
    // Admitted per key: the first and the last offer of each burst.
    const admittedOf0 = tally.admitted.filter((id) => id.startsWith('ns/secret-0#'));
    assert.deepEqual(admittedOf0, [
      'ns/secret-0#1.1',
      'ns/secret-0#1.10',
      'ns/secret-0#2.1',
      'ns/secret-0#2.10',
    ]);
  });

  it('without draining between bursts, the second burst only waits: 300 admitted, 1,700 collapsed', () => {
    // Releasing each in-flight key once admits its waiter, which is then in flight through burst 2.
    const deduplicator = new Deduplicator();
    const tally = new Tally();
    const keys = Array.from({ length: 100 }, (_, index) => `ns/secret-${index}`);
    for (const burst of [1, 2]) {
      for (let n = 1; n <= 10; n += 1) {
        for (const key of keys) deduplicator.offer(key, tally.waiter(`${key}#${burst}.${n}`));
      }
      for (const key of keys) deduplicator.release(key);
    }
    assert.equal(tally.admitted.length, 300);
    assert.equal(tally.collapsed.length, 1700);
    assert.equal(deduplicator.inFlight, 100);
  });

  it('keys are independent', () => {
    const deduplicator = new Deduplicator();
    const tally = new Tally();
    deduplicator.offer('a', tally.waiter('a1'));
    deduplicator.offer('b', tally.waiter('b1'));
    deduplicator.offer('a', tally.waiter('a2'));
    assert.deepEqual(tally.admitted, ['a1', 'b1']);
    deduplicator.release('b');
    assert.deepEqual(tally.admitted, ['a1', 'b1']);
    assert.equal(deduplicator.inFlight, 1);
    assert.equal(deduplicator.waiting, 1);
  });

  it('withdraw takes a waiting token out, so release then frees the key', () => {
    const deduplicator = new Deduplicator();
    const tally = new Tally();
    const waiting = tally.waiter('t2');
    deduplicator.offer('k', tally.waiter('t1'));
    deduplicator.offer('k', waiting);
    assert.equal(deduplicator.withdraw('k', waiting), true);
    assert.equal(deduplicator.waiting, 0);
    assert.equal(deduplicator.withdraw('k', waiting), false, 'only once');
    deduplicator.release('k');
    assert.deepEqual(tally.admitted, ['t1']);
    assert.deepEqual(tally.collapsed, []);
    assert.equal(deduplicator.inFlight, 0);
  });

  it('withdraw of a waiter that is not the waiting one changes nothing', () => {
    const deduplicator = new Deduplicator();
    const tally = new Tally();
    const first = tally.waiter('t1');
    deduplicator.offer('k', first);
    deduplicator.offer('k', tally.waiter('t2'));
    const replaced = tally.waiter('t3');
    deduplicator.offer('k', replaced);
    deduplicator.offer('k', tally.waiter('t4'));
    assert.equal(deduplicator.withdraw('k', first), false, 'in flight, not waiting');
    assert.equal(deduplicator.withdraw('k', replaced), false, 'already collapsed');
    assert.equal(deduplicator.withdraw('other', replaced), false, 'another key');
    assert.equal(deduplicator.waiting, 1);
    deduplicator.release('k');
    assert.deepEqual(tally.admitted, ['t1', 't4']);
  });

  it('release with no waiter frees the key for the next offer', () => {
    const deduplicator = new Deduplicator();
    const tally = new Tally();
    deduplicator.offer('k', tally.waiter('t1'));
    deduplicator.release('k');
    assert.equal(deduplicator.inFlight, 0);
    deduplicator.offer('k', tally.waiter('t2'));
    assert.deepEqual(tally.admitted, ['t1', 't2']);
    assert.equal(deduplicator.waiting, 0);
  });

  it('release of a key not in flight does nothing', () => {
    const deduplicator = new Deduplicator();
    deduplicator.release('k');
    assert.equal(deduplicator.inFlight, 0);
    assert.equal(deduplicator.waiting, 0);
  });

  it('a token that ends inside admit (synchronously) frees the key', () => {
    const deduplicator = new Deduplicator();
    let admitted = 0;
    const quick: Waiter = {
      admit: () => {
        admitted += 1;
        deduplicator.release('k');
      },
      collapse: () => assert.fail('not collapsed'),
    };
    deduplicator.offer('k', quick);
    deduplicator.offer('k', quick);
    assert.equal(admitted, 2);
    assert.equal(deduplicator.inFlight, 0);
  });
});
