/**
 * The real edge: Traefik v3 as the ingress controller (test/support/traefik.ts), Pebble validating through
 * it. An Ingress whose every HTTP request Traefik redirects to HTTPS (the middleware that breaks HTTP-01 for
 * many users) still gets its certificate, since the challenge path goes through kube-lego's own solver
 * Ingress, which has no redirect and, longer, wins; and an Ingress edited in place is validated through its
 * own Traefik router. Traefik's access log shows which router took each validation request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import type { Sandbox } from '../support/sandbox.ts';
import { MIDDLEWARES_ANNOTATION, REDIRECT_HTTPS_MIDDLEWARE } from '../support/traefik.ts';
import { eventually } from '../support/cluster-testing.ts';
import { ingressManifest, networking, throughEdge, validSecret } from './e2e-harness.ts';
import { sandboxSuite } from './sandbox-suite.ts';

const CHALLENGE_PATH = '/.well-known/acme-challenge/';

/**
 * The routers that answered validation requests for `host` with 200 (the Job's self-check and Pebble's),
 * from Traefik's access log; before the solver's route exists, others may answer otherwise.
 */
async function answeringRouters(sandbox: Sandbox, host: string): Promise<string[]> {
  const entries = await sandbox.traefik!.accessLog();
  return entries
    .filter((entry) => entry.RequestHost === host && entry.RequestPath.startsWith(CHALLENGE_PATH))
    .filter((entry) => entry.DownstreamStatus === 200)
    .map((entry) => `${entry.RouterName} → ${entry.ServiceURL}`);
}

describe('through Traefik, end to end', () => {
  let sandbox: Sandbox;
  sandboxSuite({
    ingressController: 'traefik',
    setUp: async (started) => {
      sandbox = started;
      // The Ingresses' own backend: Traefik leaves out the paths of a Service that does not exist.
      await started.kube.makeApiClient(CoreV1Api).createNamespacedService({
        namespace: 'shop',
        body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
      });
    },
  });

  it('issues the certificate of an Ingress that redirects all its HTTP requests to HTTPS', async () => {
    const manifest = ingressManifest('redirected', [
      { secretName: 'redirected-tls', hosts: ['redirected.shop.test'] },
    ]);
    manifest.metadata!.annotations![MIDDLEWARES_ANNOTATION] = REDIRECT_HTTPS_MIDDLEWARE;
    await networking(sandbox.kube).createNamespacedIngress({ namespace: 'shop', body: manifest });
    const redirect = await eventually('Traefik redirecting the Ingress to HTTPS', async () => {
      const answer = await throughEdge(sandbox, 'redirected.shop.test', '/');
      return answer.status === 308 || answer.status === 301 ? answer : undefined;
    });
    assert.match(String(redirect.headers.location), /^https:\/\/redirected\.shop\.test\//);
    await validSecret(sandbox, 'shop', 'redirected-tls', ['redirected.shop.test']);
    const routers = await answeringRouters(sandbox, 'redirected.shop.test');
    assert.ok(routers.length > 0, `validation answered through Traefik:\n${sandbox.traefik!.logs()}`);
    for (const router of routers) {
      assert.match(
        router,
        /^kube-lego-kube-lego-redirected-tls-[0-9a-f]+-.*@kubernetes → http:\/\/10\.244\./,
      );
    }
  });

  it("validates an Ingress edited in place through that Ingress's own router", async () => {
    const manifest = ingressManifest('in-place', [
      { secretName: 'in-place-tls', hosts: ['in-place.shop.test'] },
    ]);
    manifest.metadata!.annotations!['kube-lego.io/edit-in-place'] = 'true';
    await networking(sandbox.kube).createNamespacedIngress({ namespace: 'shop', body: manifest });
    await validSecret(sandbox, 'shop', 'in-place-tls', ['in-place.shop.test']);
    const routers = await answeringRouters(sandbox, 'in-place.shop.test');
    assert.ok(routers.length > 0, `validation answered through Traefik:\n${sandbox.traefik!.logs()}`);
    for (const router of routers) {
      assert.match(router, /^shop-in-place-in-place-shop-test-.*@kubernetes → http:\/\/10\.244\./);
    }
  });
});
