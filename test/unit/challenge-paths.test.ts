/**
 * Edit-in-place's patches (src/ingress/challenge-paths.ts), applied to Ingresses by a small JSON Patch
 * reader of the three operations they use: the challenge path goes in where the table says, comes out
 * leaving the Ingress as it was, and a patch computed before the owner changed the Ingress is refused, not
 * applied over the change.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Ingress, V1IngressRule } from '@kubernetes/client-node';
import {
  addChallengePaths,
  challengePath,
  removeChallengePaths,
  type ChallengeRoute,
  type PatchOperation,
} from '../../src/ingress/challenge-paths.ts';

const PATH = '/.well-known/acme-challenge/';
const route: ChallengeRoute = { hosts: ['shop.test'], service: 'kube-lego-job', port: 'http01', path: PATH };
const ours = challengePath(route);

/** Applies `operations` as the API server would: all or nothing, a failed `test` refusing the whole patch. */
function apply(ingress: V1Ingress, operations: readonly PatchOperation[]): V1Ingress {
  const document = structuredClone(ingress) as unknown as Record<string, unknown>;
  for (const operation of operations) {
    const tokens = operation.path.split('/').slice(1);
    const last = tokens.pop()!;
    let parent: unknown = document;
    for (const token of tokens) parent = (parent as Record<string, unknown>)[token];
    if (parent === undefined) throw new Error(`no parent for ${operation.path}`);
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (operation.op === 'test')
        assert.deepEqual(parent[index], operation.value, `test of ${operation.path} failed`);
      else if (operation.op === 'add') parent.splice(index, 0, operation.value);
      else if (index >= parent.length) throw new Error(`nothing at ${operation.path}`);
      else parent.splice(index, 1);
      continue;
    }
    const object = parent as Record<string, unknown>;
    if (operation.op === 'test')
      assert.deepEqual(object[last], operation.value, `test of ${operation.path} failed`);
    else if (operation.op === 'add') object[last] = operation.value;
    else delete object[last];
  }
  return document as V1Ingress;
}

const web = (path = '/') => ({
  path,
  pathType: 'Prefix',
  backend: { service: { name: 'web', port: { number: 80 } } },
});
const ingressOf = (rules?: V1IngressRule[]): V1Ingress => ({
  metadata: { name: 'shop', namespace: 'shop' },
  spec: {
    tls: [{ secretName: 'shop-tls', hosts: route.hosts.slice() }],
    ...(rules !== undefined && { rules }),
  },
});

describe('edit-in-place adds the challenge path and takes exactly it out again', () => {
  const cases: {
    name: string;
    hosts?: string[];
    before: V1IngressRule[] | undefined;
    edited: V1IngressRule[];
  }[] = [
    {
      name: 'first in the paths of the host’s rule',
      before: [{ host: 'shop.test', http: { paths: [web()] } }],
      edited: [{ host: 'shop.test', http: { paths: [ours, web()] } }],
    },
    {
      name: 'in the first of two rules for the host that have paths',
      before: [
        { host: 'other.test', http: { paths: [web()] } },
        { host: 'shop.test', http: { paths: [web('/a')] } },
        { host: 'shop.test', http: { paths: [web('/b')] } },
      ],
      edited: [
        { host: 'other.test', http: { paths: [web()] } },
        { host: 'shop.test', http: { paths: [ours, web('/a')] } },
        { host: 'shop.test', http: { paths: [web('/b')] } },
      ],
    },
    {
      name: 'a rule of its own for a host no rule routes (one with a host only is left alone)',
      before: [{ host: 'other.test', http: { paths: [web()] } }, { host: 'shop.test' }],
      edited: [
        { host: 'other.test', http: { paths: [web()] } },
        { host: 'shop.test' },
        { host: 'shop.test', http: { paths: [ours] } },
      ],
    },
    {
      name: 'the rules themselves when the Ingress has none (a default backend only)',
      before: undefined,
      edited: [{ host: 'shop.test', http: { paths: [ours] } }],
    },
    {
      name: 'each of several hosts',
      hosts: ['shop.test', 'www.shop.test'],
      before: [{ host: 'shop.test', http: { paths: [web()] } }],
      edited: [
        { host: 'shop.test', http: { paths: [ours, web()] } },
        { host: 'www.shop.test', http: { paths: [ours] } },
      ],
    },
  ];
  for (const { name, hosts, before, edited } of cases) {
    it(name, () => {
      const wanted = { ...route, hosts: hosts ?? route.hosts };
      const original = ingressOf(before);
      const added = apply(original, addChallengePaths(original, wanted));
      assert.deepEqual(added.spec?.rules, edited);
      assert.deepEqual(addChallengePaths(added, wanted), [], 'there already: nothing to add');
      const removed = apply(added, removeChallengePaths(added, wanted));
      assert.deepEqual(removed, original);
      assert.deepEqual(removeChallengePaths(removed, wanted), [], 'gone: nothing to remove');
    });
  }

  it("leaves the paths of another Job's route, and the owner's paths added meanwhile", () => {
    const original = ingressOf([{ host: 'shop.test', http: { paths: [web()] } }]);
    const other = { ...route, service: 'kube-lego-other' };
    const both = apply(original, addChallengePaths(original, route));
    const withOther = apply(both, addChallengePaths(both, other));
    withOther.spec!.rules![0]!.http!.paths.unshift(web('/new'));
    const removed = apply(withOther, removeChallengePaths(withOther, route));
    assert.deepEqual(removed.spec?.rules?.[0]?.http?.paths, [web('/new'), challengePath(other), web()]);
  });

  it('keeps a rule kube-lego added once the owner has put a path of its own in it', () => {
    const original = ingressOf([{ host: 'other.test', http: { paths: [web()] } }]);
    const added = apply(original, addChallengePaths(original, route));
    added.spec!.rules![1]!.http!.paths.push(web('/shop'));
    const removed = apply(added, removeChallengePaths(added, route));
    assert.deepEqual(removed.spec?.rules?.[1], { host: 'shop.test', http: { paths: [web('/shop')] } });
  });

  it('a patch computed before the owner changed the Ingress is refused, never applied over the change', () => {
    const original = ingressOf([
      { host: 'shop.test', http: { paths: [web()] } },
      { host: 'other.test', http: { paths: [web()] } },
    ]);
    const added = apply(original, addChallengePaths(original, route));
    const staleRemoval = removeChallengePaths(added, route);
    const staleAddition = addChallengePaths(original, route);
    const changed = structuredClone(added);
    changed.spec!.rules!.unshift({ host: 'new.test', http: { paths: [web()] } });
    assert.throws(() => apply(changed, staleRemoval), /test of .* failed/);
    const reordered = structuredClone(original);
    reordered.spec!.rules!.reverse();
    assert.throws(() => apply(reordered, staleAddition), /test of .* failed/);
  });
});
