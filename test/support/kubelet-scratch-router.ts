import { mkdtemp } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { startControlPlane } from './control-plane.ts';
import { startProcessKubelet } from './kubelet.ts';
import { startIngressRouter } from './ingress-router.ts';
import { createNamespace, eventually } from './kubelet-testing.ts';

const FIXTURES = fileURLToPath(new URL('./kubelet-fixtures/', import.meta.url));
const cp = await startControlPlane();
const logDir = await mkdtemp(join(tmpdir(), 'k-'));
const kubelet = await startProcessKubelet({
  kubeConfig: cp.kubeConfig(),
  imageMap: { 'test/workload': { cwd: FIXTURES, commandPrefix: ['node', 'workload.ts'] } },
  logDir,
});
const router = await startIngressRouter({ kubeConfig: cp.kubeConfig() });
const kc = cp.kubeConfig();
await createNamespace(kc, 't');
const labels = { app: 'web' };
await kc
  .makeApiClient(AppsV1Api)
  .createNamespacedDeployment({
    namespace: 't',
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'web',
                image: 'test/workload',
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
await kc
  .makeApiClient(CoreV1Api)
  .createNamespacedService({
    namespace: 't',
    body: {
      metadata: { name: 'web' },
      spec: { selector: labels, ports: [{ name: 'web', port: 80, targetPort: 'http' }] },
    },
  });
await kc
  .makeApiClient(NetworkingV1Api)
  .createNamespacedIngress({
    namespace: 't',
    body: {
      metadata: { name: 'x' },
      spec: {
        ingressClassName: 'nginx',
        rules: [
          {
            host: 'site.test',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'web', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    },
  });
await eventually('route', async () => (router.route('site.test', '/').status === 200 ? true : undefined));
console.log(router.route('site.test', '/'));
const answer = await new Promise((resolve, reject) => {
  const r = request(
    { host: '127.0.0.1', port: router.port, path: '/hello', headers: { host: 'site.test:5002' } },
    (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve([res.statusCode, body]));
    },
  );
  r.on('error', reject);
  r.end();
  setTimeout(() => reject(new Error('timeout')), 5000);
}).catch((e) => e);
console.log(answer);
console.log(router.logs());
console.log(kubelet.logs());
await router.stop();
await kubelet.stop();
await cp.stop();
