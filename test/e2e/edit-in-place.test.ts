/**
 * Edit-in-place end to end, through the ingress router: an Ingress annotated `kube-lego.io/edit-in-place`
 * gets its certificate with the CA's validation routed by that Ingress itself (no solver Ingress exists),
 * to the solver Service in its own namespace whose endpoint the Job published; once the Job has ended the
 * Ingress is as its owner left it, a change the owner made while the Job ran included, and the Service is
 * gone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoreV1Api, Watch, type V1Ingress } from '@kubernetes/client-node';
import { eventually, isStatus } from '../support/cluster-testing.ts';
import type { Sandbox } from '../support/sandbox.ts';
import { ingressManifest, networking, validSecret } from './e2e-harness.ts';
import { sandboxSuite } from './sandbox-suite.ts';

const CHALLENGE_PATH = '/.well-known/acme-challenge/';

/** The challenge paths kube-lego put in the Ingress: `path → Service` of each. */
function challengeRoutes(ingress: V1Ingress): string[] {
  return (ingress.spec?.rules ?? []).flatMap((rule) =>
    (rule.http?.paths ?? [])
      .filter((path) => path.path === CHALLENGE_PATH)
      .map((path) => `${rule.host}${path.path} → ${path.backend.service?.name}`),
  );
}

describe('Edit-in-place, end to end', () => {
  let sandbox: Sandbox;
  sandboxSuite({
    setUp: async (started) => {
      sandbox = started;
    },
  });

  it("validates through the user's Ingress, then leaves it as its owner made it", async () => {
    const api = networking(sandbox.kube);
    const manifest = ingressManifest('in-place', [
      { secretName: 'in-place-tls', hosts: ['in-place.shop.test'] },
    ]);
    manifest.metadata!.annotations!['kube-lego.io/edit-in-place'] = 'true';
    // Every state of the Ingress, as a watch sees it, and the owner's change once kube-lego's path is in.
    const states: V1Ingress[] = [];
    let ownerChanged: Promise<unknown> | undefined;
    const watching = await new Watch(sandbox.kube).watch(
      '/apis/networking.k8s.io/v1/namespaces/shop/ingresses',
      { fieldSelector: 'metadata.name=in-place' },
      (type: string, object: V1Ingress) => {
        if (type !== 'ADDED' && type !== 'MODIFIED') return;
        states.push(object);
        if (ownerChanged === undefined && challengeRoutes(object).length > 0) {
          const changed = structuredClone(object);
          changed.spec!.rules![0]!.http!.paths.push({
            path: '/owner',
            pathType: 'Prefix',
            backend: { service: { name: 'owner', port: { number: 80 } } },
          });
          ownerChanged = api.replaceNamespacedIngress({ namespace: 'shop', name: 'in-place', body: changed });
        }
      },
      () => {},
    );
    try {
      await api.createNamespacedIngress({ namespace: 'shop', body: manifest });
      await validSecret(sandbox, 'shop', 'in-place-tls', ['in-place.shop.test'], 60_000);
      const final = await eventually(
        'the challenge path taken out',
        async () => {
          const found = await api.readNamespacedIngress({ namespace: 'shop', name: 'in-place' });
          return challengeRoutes(found).length === 0 ? found : undefined;
        },
        30_000,
      );
      assert.ok(ownerChanged !== undefined, 'the watch saw the challenge path added');
      await ownerChanged;
      const edited = states.find((state) => challengeRoutes(state).length > 0)!;
      const job = challengeRoutes(edited)[0]!.split(' → ')[1]!;
      assert.deepEqual(challengeRoutes(edited), [`in-place.shop.test${CHALLENGE_PATH} → ${job}`]);
      assert.deepEqual(
        final.spec?.rules?.[0]?.http?.paths.map((path) => `${path.path} → ${path.backend.service?.name}`),
        ['/ → web', '/owner → owner'],
        "the owner's path kept, kube-lego's gone",
      );
      assert.deepEqual(
        final.spec?.tls?.map((entry) => `${entry.secretName}: ${entry.hosts?.join(',')}`),
        ['in-place-tls: in-place.shop.test'],
      );
      const validated = sandbox.router
        .logs()
        .split('\n')
        .filter((line) => line.includes(' GET in-place.shop.test') && line.includes(CHALLENGE_PATH));
      assert.ok(validated.length > 0, `validation requests reached the router:\n${sandbox.router.logs()}`);
      for (const line of validated) {
        assert.match(line, new RegExp(` → shop/in-place → shop/${job} → [0-9.:]+ 200$`), line);
      }
      await eventually(
        'the solver Service deleted',
        async () => {
          try {
            await sandbox.kube
              .makeApiClient(CoreV1Api)
              .readNamespacedService({ namespace: 'shop', name: job });
            return false;
          } catch (error) {
            return isStatus(error, 404);
          }
        },
        30_000,
      );
      await assert.rejects(
        api.readNamespacedIngress({ namespace: 'kube-lego', name: job }),
        (error) => isStatus(error, 404),
        'no solver Ingress was made',
      );
    } finally {
      watching.abort();
    }
  });
});
