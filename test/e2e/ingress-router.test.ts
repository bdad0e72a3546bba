// The ingress router against the real control plane: Deployments run by the process kubelet, Services
// whose EndpointSlices the real endpointslice controller fills, and Ingresses; HTTP through the router
// reaches the right pod by host and path, and answers 404 for what no served Ingress routes.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { AppsV1Api, CoreV1Api, NetworkingV1Api, type V1Ingress } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { startIngressRouter, type IngressRouter } from '../support/ingress-router.ts';
import { findRoute, hostOfHeader, isServed, pathMatches } from '../support/ingress-router-table.ts';
import { startProcessKubelet, type ProcessKubelet } from '../support/kubelet.ts';
import { createNamespace, eventually, withDiagnostics } from '../support/cluster-testing.ts';

const FIXTURES = fileURLToPath(new URL('../support/kubelet-fixtures/', import.meta.url));
const namespace = 'router-test';

let controlPlane: ControlPlane;
let kubelet: ProcessKubelet;
let router: IngressRouter;
let logDir: string;

const diagnostics = () =>
  `--- router\n${router?.logs() ?? ''}--- kubelet\n${kubelet?.logs() ?? ''}\n${controlPlane?.logs(20) ?? ''}`;
const check = <T>(body: () => Promise<T>) => withDiagnostics(diagnostics, body);

/** An answer through the router. */
interface Answer {
  readonly status: number;
  readonly body: string;
}

/** GET `path` through the router with `Host: host`. */
function get(host: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      { host: router.address, port: router.port, path, headers: { host } },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

/** A Deployment of one `serve` pod labelled app=`name`, ready by an httpGet probe, and its Service on port 80. */
async function webApp(name: string): Promise<void> {
  const apps = controlPlane.kubeConfig().makeApiClient(AppsV1Api);
  const core = controlPlane.kubeConfig().makeApiClient(CoreV1Api);
  const labels = { app: name };
  await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'web',
                image: 'test/workload:1',
                args: ['serve', '8080'],
                ports: [{ name: 'http', containerPort: 8080 }],
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' } },
              },
            ],
          },
        },
      },
    },
  });
  await core.createNamespacedService({
    namespace,
    body: {
      metadata: { name },
      spec: { selector: labels, ports: [{ name: 'web', port: 80, targetPort: 'http' }] },
    },
  });
}

function ingress(
  name: string,
  host: string,
  paths: [string, string, string][],
  className?: string,
): V1Ingress {
  return {
    metadata: { name },
    spec: {
      ...(className === undefined ? {} : { ingressClassName: className }),
      rules: [
        {
          host,
          http: {
            paths: paths.map(([path, pathType, service]) => ({
              path,
              pathType,
              backend: { service: { name: service, port: path === '/' ? { number: 80 } : { name: 'web' } } },
            })),
          },
        },
      ],
    },
  };
}

before(async () => {
  controlPlane = await startControlPlane();
  logDir = await mkdtemp(join(tmpdir(), 'router-test-logs-'));
  kubelet = await startProcessKubelet({
    kubeConfig: controlPlane.kubeConfig(),
    imageMap: { 'test/workload': { cwd: FIXTURES, commandPrefix: ['node', 'workload.ts'] } },
    logDir,
  });
  router = await startIngressRouter({ kubeConfig: controlPlane.kubeConfig() });
  await createNamespace(controlPlane.kubeConfig(), namespace);
});

after(async () => {
  try {
    await router?.stop();
    await kubelet?.stop();
  } finally {
    await controlPlane?.stop();
    if (logDir) await rm(logDir, { recursive: true, force: true });
  }
});

describe('routing table', () => {
  const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 0, minutes));
  const table: V1Ingress[] = [
    {
      metadata: { name: 'shop', namespace: 'a', creationTimestamp: at(1) },
      spec: {
        rules: [
          {
            host: 'shop.test',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'root', port: { number: 80 } } },
                },
                {
                  path: '/api/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'api', port: { number: 80 } } },
                },
                {
                  path: '/api/v1',
                  pathType: 'Exact',
                  backend: { service: { name: 'v1', port: { number: 80 } } },
                },
              ],
            },
          },
          {
            host: '*.shop.test',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'wild', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    },
    {
      metadata: { name: 'solver', namespace: 'b', creationTimestamp: at(2) },
      spec: {
        rules: [
          {
            host: 'shop.test',
            http: {
              paths: [
                {
                  path: '/.well-known/acme-challenge/token',
                  pathType: 'ImplementationSpecific',
                  backend: { service: { name: 'solver', port: { name: 'http' } } },
                },
              ],
            },
          },
        ],
      },
    },
  ];
  const serviceFor = (host: string, path: string) => findRoute(table, hostOfHeader(host), path)?.service;

  test('host (port stripped), longest path, Exact over Prefix, whole path elements, wildcards', () => {
    assert.equal(serviceFor('shop.test:5002', '/'), 'root');
    assert.equal(serviceFor('SHOP.test', '/basket'), 'root');
    assert.equal(serviceFor('shop.test', '/api'), 'api');
    assert.equal(serviceFor('shop.test', '/api/v1'), 'v1');
    assert.equal(serviceFor('shop.test', '/api/v1/x'), 'api');
    assert.equal(serviceFor('shop.test', '/apiary'), 'root');
    assert.equal(serviceFor('shop.test', '/.well-known/acme-challenge/token'), 'solver');
    assert.equal(findRoute(table, 'shop.test', '/.well-known/acme-challenge/token')?.ingress, 'b/solver');
    assert.equal(serviceFor('eu.shop.test', '/x'), 'wild');
    assert.equal(serviceFor('a.eu.shop.test', '/x'), undefined);
    assert.equal(serviceFor('other.test', '/'), undefined);
    assert.equal(hostOfHeader('[::1]:80'), '[::1]');
    assert.ok(pathMatches('/foo/', 'Prefix', '/foo'));
    assert.ok(!pathMatches('/foo', 'Exact', '/foo/'));
  });

  test('classes: the annotation wins over spec.ingressClassName; no class is served only if asked', () => {
    const policy = { classes: ['nginx'], withoutClass: false };
    const annotated = (value: string) => ({
      metadata: { annotations: { 'kubernetes.io/ingress.class': value } },
    });
    assert.ok(isServed(annotated('nginx'), policy));
    assert.ok(!isServed(annotated('traefik'), policy));
    assert.ok(isServed({ spec: { ingressClassName: 'nginx' } }, policy));
    assert.ok(!isServed({ ...annotated('traefik'), spec: { ingressClassName: 'nginx' } }, policy));
    assert.ok(!isServed({}, policy));
    assert.ok(isServed({}, { ...policy, withoutClass: true }));
  });
});

describe('ingress router', () => {
  test('routes by host and path to the pods behind the Service, through real EndpointSlices', () =>
    check(async () => {
      const networking = controlPlane.kubeConfig().makeApiClient(NetworkingV1Api);
      const started = Date.now();
      await webApp('web');
      await webApp('api');
      await networking.createNamespacedIngress({
        namespace,
        body: ingress(
          'site',
          'site.test',
          [
            ['/', 'Prefix', 'web'],
            ['/api', 'Prefix', 'api'],
          ],
          'nginx',
        ),
      });
      for (const path of ['/', '/api']) {
        await eventually(`route to ${path} ready`, async () =>
          router.route('site.test', path).status === 200 ? true : undefined,
        );
      }
      process.stderr.write(
        `Deployments + Services + Ingress created → routes ready: ${Date.now() - started} ms\n`,
      );
      const root = await get('site.test:5002', '/hello?x=1');
      assert.equal(root.status, 200);
      assert.match(root.body, /^web-[a-z0-9]+-[a-z0-9]+ GET \/hello\?x=1$/);
      const api = await get('site.test', '/api/users');
      assert.equal(api.status, 200);
      assert.match(api.body, /^api-[a-z0-9]+-[a-z0-9]+ GET \/api\/users$/);
      const notApi = await get('site.test', '/apiary');
      assert.match(notApi.body, /^web-/);
      const decision = router.route('site.test', '/api');
      assert.equal(decision.status, 200);
      if (decision.status === 200) {
        assert.match(decision.address, /^127\.0\.\d+\.\d+$/);
        assert.notEqual(decision.address, '127.0.0.1');
        assert.equal(decision.port, 8080, 'the named targetPort, resolved through the EndpointSlice');
      }
    }));

  test('a wrong host is a 404', () =>
    check(async () => {
      const answer = await get('elsewhere.test', '/');
      assert.equal(answer.status, 404);
    }));

  test('an Ingress of a class not served is a 404, by annotation or by ingressClassName', () =>
    check(async () => {
      const networking = controlPlane.kubeConfig().makeApiClient(NetworkingV1Api);
      const byAnnotation = ingress('traefik-annotated', 'other-class.test', [['/', 'Prefix', 'web']]);
      byAnnotation.metadata!.annotations = { 'kubernetes.io/ingress.class': 'traefik' };
      await networking.createNamespacedIngress({ namespace, body: byAnnotation });
      await networking.createNamespacedIngress({
        namespace,
        body: ingress('traefik-named', 'other-name.test', [['/', 'Prefix', 'web']], 'traefik'),
      });
      await networking.createNamespacedIngress({
        namespace,
        body: ingress('nginx-annotated', 'annotated.test', [['/', 'Prefix', 'web']]),
      });
      await networking.patchNamespacedIngress({
        name: 'nginx-annotated',
        namespace,
        body: [
          { op: 'add', path: '/metadata/annotations', value: { 'kubernetes.io/ingress.class': 'nginx' } },
        ],
      });
      await eventually('the annotated nginx Ingress served', async () =>
        router.route('annotated.test', '/').status === 200 ? true : undefined,
      );
      assert.equal((await get('annotated.test', '/')).status, 200);
      assert.equal((await get('other-class.test', '/')).status, 404);
      assert.equal((await get('other-name.test', '/')).status, 404);
    }));

  test('stop() ends at once, with a request in flight to a pod and an idle keep-alive connection', () =>
    check(async () => {
      const second = await startIngressRouter({ kubeConfig: controlPlane.kubeConfig() });
      let stopped = false;
      try {
        await eventually('route to /api in the second router', async () =>
          second.route('site.test', '/api').status === 200 ? true : undefined,
        );
        const agent = new Agent({ keepAlive: true });
        const idle = await new Promise<number>((resolve, reject) => {
          const outgoing = request(
            {
              host: second.address,
              port: second.port,
              path: '/',
              headers: { host: 'elsewhere.test' },
              agent,
            },
            (response) => {
              response.resume();
              response.on('end', () => resolve(response.statusCode ?? 0));
            },
          );
          outgoing.on('error', reject);
          outgoing.end();
        });
        assert.equal(idle, 404);
        // A POST whose body never ends: the pod answers at once, but the router's request to it (and the
        // client's connection) stay open while the body goes on.
        const pending = request({
          host: second.address,
          port: second.port,
          method: 'POST',
          path: '/api/upload',
          headers: { host: 'site.test', 'transfer-encoding': 'chunked' },
        });
        const closed = new Promise<void>((resolve) => pending.on('close', resolve));
        pending.on('error', () => {});
        const answered = new Promise<number>((resolve) =>
          pending.on('response', (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          }),
        );
        pending.write('part of a body');
        assert.equal(await answered, 200);
        const started = Date.now();
        await second.stop();
        stopped = true;
        const took = Date.now() - started;
        assert.ok(took < 1000, `stop() took ${took} ms`);
        await closed; // the client's connection was ended by the router
        agent.destroy();
      } finally {
        if (!stopped) await second.stop();
      }
    }));

  test('a Service without ready endpoints is a 503; scaling the Deployment down empties it', () =>
    check(async () => {
      const networking = controlPlane.kubeConfig().makeApiClient(NetworkingV1Api);
      const apps = controlPlane.kubeConfig().makeApiClient(AppsV1Api);
      await networking.createNamespacedIngress({
        namespace,
        body: ingress('down', 'down.test', [['/', 'Prefix', 'web']], 'nginx'),
      });
      await eventually('route to down.test', async () =>
        router.route('down.test', '/').status === 200 ? true : undefined,
      );
      await apps.patchNamespacedDeploymentScale({
        name: 'web',
        namespace,
        body: [{ op: 'replace', path: '/spec/replicas', value: 0 }],
      });
      await eventually('no endpoint left', async () =>
        router.route('down.test', '/').status === 503 ? true : undefined,
      );
      const answer = await get('down.test', '/');
      assert.equal(answer.status, 503);
      assert.match(answer.body, /no ready endpoint/);
    }));
});
