/** Two Ingresses naming one Secret: the older keeps it, whichever the operator sees first. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Ingress } from '@kubernetes/client-node';
import { RequestIndex } from '../../src/ingress/request-index.ts';
import type { IngressProblem, RequestSettings } from '../../src/ingress/requests.ts';

const SETTINGS: RequestSettings = {
  annotation: 'kubernetes.io/tls-acme',
  supportedClasses: ['nginx'],
  defaultClass: 'nginx',
  supportedProviders: ['nginx'],
  defaultProvider: 'nginx',
};

/** An annotated Ingress whose one tls entry names `secretName` for `hosts`. */
function ingress(
  name: string,
  created: string,
  hosts: string[],
  { namespace = 'shop', secretName = 'shop-tls' } = {},
): V1Ingress {
  return {
    metadata: {
      namespace,
      name,
      uid: `uid-${namespace}-${name}`,
      creationTimestamp: new Date(created),
      annotations: { 'kubernetes.io/tls-acme': 'true' },
    },
    spec: { tls: [{ secretName, hosts }] },
  };
}

const older = ingress('storefront', '2024-01-01T00:00:00Z', ['shop.test']);
const newer = ingress('promo', '2024-06-01T00:00:00Z', ['promo.test']);
const newerSameHosts = ingress('mirror', '2024-06-01T00:00:00Z', ['shop.test']);

const conflictOfNewer: IngressProblem = {
  namespace: 'shop',
  ingress: 'promo',
  uid: 'uid-shop-promo',
  reason: 'SecretConflict',
  message:
    'Secret shop-tls is already claimed by Ingress storefront with hosts shop.test: use another secretName',
};

/** The Ingresses the requests come from, for short assertions. */
const from = (requests: Iterable<{ ingress: { name: string } }>) => [...requests].map((r) => r.ingress.name);

describe('RequestIndex secret conflicts', () => {
  it('older first: the older keeps the Secret, the newer gets a SecretConflict naming the owner', () => {
    const index = new RequestIndex(SETTINGS);
    const first = index.upsert(older);
    assert.deepEqual(from(first.requests), ['storefront']);
    assert.deepEqual(first.problems, []);
    const second = index.upsert(newer);
    assert.deepEqual(second.requests, []);
    assert.deepEqual(second.problems, [conflictOfNewer]);
    assert.deepEqual(from(index.requests()), ['storefront']);
  });

  it('newer first: the older takes the Secret over, and the newer is told of the conflict', () => {
    const index = new RequestIndex(SETTINGS);
    const first = index.upsert(newer);
    assert.deepEqual(from(first.requests), ['promo']);
    assert.deepEqual(first.problems, []);
    const second = index.upsert(older);
    assert.deepEqual(from(second.requests), ['storefront']);
    assert.deepEqual(second.problems, [conflictOfNewer]);
    assert.deepEqual(from(index.requests()), ['storefront']);
    // Seen again, the newer is still the loser and is told again.
    const again = index.upsert(newer);
    assert.deepEqual(again, { requests: [], problems: [conflictOfNewer] });
  });

  it('the same creationTimestamp: the name decides, either order', () => {
    const a = ingress('a', '2024-01-01T00:00:00Z', ['a.test']);
    const b = ingress('b', '2024-01-01T00:00:00Z', ['b.test']);
    for (const order of [
      [a, b],
      [b, a],
    ]) {
      const index = new RequestIndex(SETTINGS);
      for (const subject of order) index.upsert(subject);
      assert.deepEqual(from(index.requests()), ['a']);
    }
  });

  it('the same hosts: no problem and one request, either order', () => {
    for (const order of [
      [older, newerSameHosts],
      [newerSameHosts, older],
    ]) {
      const index = new RequestIndex(SETTINGS);
      const results = order.map((subject) => index.upsert(subject));
      assert.deepEqual(
        results.flatMap((result) => result.problems),
        [],
      );
      assert.equal(index.size, 1);
      assert.deepEqual(from(index.requests()), ['storefront']);
    }
  });

  it('deleting the owner promotes the other Ingress (remove returns it)', () => {
    const index = new RequestIndex(SETTINGS);
    index.upsert(older);
    index.upsert(newer);
    const promoted = index.remove('uid-shop-storefront');
    assert.deepEqual(from(promoted), ['promo']);
    assert.deepEqual(promoted[0]?.hosts, ['promo.test']);
    assert.deepEqual(from(index.requests()), ['promo']);
  });

  it('deleting the loser promotes nobody', () => {
    const index = new RequestIndex(SETTINGS);
    index.upsert(older);
    index.upsert(newer);
    assert.deepEqual(index.remove('uid-shop-promo'), []);
    assert.deepEqual(from(index.requests()), ['storefront']);
  });

  it('deleting the last claim frees the key', () => {
    const index = new RequestIndex(SETTINGS);
    index.upsert(older);
    assert.deepEqual(index.remove('uid-shop-storefront'), []);
    assert.equal(index.size, 0);
    assert.deepEqual([...index.requests()], []);
    assert.deepEqual(index.remove('uid-unknown'), []);
  });

  it('the owner giving the Secret up promotes the other (upsert returns it)', () => {
    const index = new RequestIndex(SETTINGS);
    index.upsert(older);
    index.upsert(newer);
    const moved = ingress('storefront', '2024-01-01T00:00:00Z', ['shop.test'], { secretName: 'store-tls' });
    const result = index.upsert(moved);
    assert.deepEqual(
      result.requests.map((r) => `${r.key} ${r.ingress.name}`),
      ['shop/store-tls storefront', 'shop/shop-tls promo'],
    );
    assert.deepEqual(result.problems, []);
    assert.deepEqual(from(index.requests()).sort(), ['promo', 'storefront']);
  });

  it('the owner turning its annotation off promotes the other', () => {
    const index = new RequestIndex(SETTINGS);
    index.upsert(older);
    index.upsert(newer);
    const off = ingress('storefront', '2024-01-01T00:00:00Z', ['shop.test']);
    off.metadata!.annotations = { 'kubernetes.io/tls-acme': 'false' };
    assert.deepEqual(from(index.upsert(off).requests), ['promo']);
    assert.deepEqual(from(index.requests()), ['promo']);
  });

  it('the owner changing its hosts keeps the Secret and promotes nobody', () => {
    const index = new RequestIndex(SETTINGS);
    index.upsert(older);
    index.upsert(newer);
    const changed = ingress('storefront', '2024-01-01T00:00:00Z', ['shop.test', 'www.shop.test']);
    const result = index.upsert(changed);
    assert.deepEqual(
      result.requests.map((r) => `${r.ingress.name} ${r.hosts.join(',')}`),
      ['storefront shop.test,www.shop.test'],
    );
    assert.deepEqual(result.problems, []);
    assert.deepEqual(index.winner('shop/shop-tls')?.hosts, ['shop.test', 'www.shop.test']);
  });

  it('requests() yields one request per key', () => {
    const index = new RequestIndex(SETTINGS);
    index.upsert(older);
    index.upsert(newer);
    index.upsert(newerSameHosts);
    index.upsert(ingress('blog', '2024-03-01T00:00:00Z', ['blog.test'], { secretName: 'blog-tls' }));
    const keys = [...index.requests()].map((r) => r.key).sort();
    assert.deepEqual(keys, ['shop/blog-tls', 'shop/shop-tls']);
    assert.equal(index.size, 2);
  });

  it('different namespaces never conflict', () => {
    const index = new RequestIndex(SETTINGS);
    const a = ingress('web', '2024-01-01T00:00:00Z', ['a.test'], { namespace: 'a' });
    const b = ingress('web', '2024-06-01T00:00:00Z', ['b.test'], { namespace: 'b' });
    const results = [index.upsert(b), index.upsert(a)];
    assert.deepEqual(
      results.flatMap((result) => result.problems),
      [],
    );
    assert.deepEqual(
      results.flatMap((result) => result.requests.map((r) => r.key)),
      ['b/shop-tls', 'a/shop-tls'],
    );
    assert.deepEqual([...index.requests()].map((r) => r.key).sort(), ['a/shop-tls', 'b/shop-tls']);
  });

  it('an unchanged upsert of the owner repeats its request and no problem', () => {
    const index = new RequestIndex(SETTINGS);
    index.upsert(older);
    index.upsert(newer);
    assert.deepEqual(from(index.upsert(older).requests), ['storefront']);
    assert.deepEqual(index.upsert(older).problems, []);
  });
});
