import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { startControlPlane } from './control-plane.ts';
import { startProcessKubelet } from './kubelet.ts';
import { createNamespace } from './kubelet-testing.ts';

const FIXTURES = fileURLToPath(new URL('./kubelet-fixtures/', import.meta.url));
const cp = await startControlPlane();
const logDir = await mkdtemp(join(tmpdir(), 'k-'));
const kubelet = await startProcessKubelet({
  kubeConfig: cp.kubeConfig(),
  imageMap: { 'test/workload': { cwd: FIXTURES, commandPrefix: ['node', 'workload.ts'] } },
  logDir,
});
const core = cp.kubeConfig().makeApiClient(CoreV1Api);
const batch = cp.kubeConfig().makeApiClient(BatchV1Api);
await createNamespace(cp.kubeConfig(), 't');
for (let i = 0; i < 5; i++) {
  const t0 = Date.now();
  const name = `j${i}`;
  await batch.createNamespacedJob({
    namespace: 't',
    body: {
      metadata: { name },
      spec: {
        backoffLimit: 0,
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'm', image: 'test/workload', args: ['complete', 'x'] }],
          },
        },
      },
    },
  });
  const marks: Record<string, number> = {};
  for (;;) {
    const pods = await core.listNamespacedPod({ namespace: 't', labelSelector: `job-name=${name}` });
    const pod = pods.items[0];
    if (pod && !marks.podCreated) marks.podCreated = Date.now() - t0;
    if (pod?.spec?.nodeName && !marks.bound) marks.bound = Date.now() - t0;
    if (pod?.status?.phase === 'Running' && !marks.running) marks.running = Date.now() - t0;
    if (pod?.status?.phase === 'Succeeded' && !marks.succeeded) marks.succeeded = Date.now() - t0;
    const job = await batch.readNamespacedJobStatus({ name, namespace: 't' });
    if (job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')) {
      marks.complete = Date.now() - t0;
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  console.log(JSON.stringify(marks));
}
await kubelet.stop();
await cp.stop();
