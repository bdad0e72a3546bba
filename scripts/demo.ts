/**
 * `npm run demo`: on a fresh checkout, brings up the local cluster (building what it needs the first time),
 * installs kube-lego from manifests/install.yml pointed at Pebble, applies the example Ingress
 * (manifests/examples/ingress.yml, its example.com hosts renamed to demo.test), streams the operator's and
 * the issuance Job's logs, and prints the certificate once its Secret is ready.
 * `npm run demo -- --once` exits 0 then; otherwise it keeps running until Ctrl-C.
 */
import { readFile } from 'node:fs/promises';
import { eventually } from '../test/support/cluster-testing.ts';
import { CoreV1Api, KubernetesObjectApi, loadYaml, type KubernetesObject } from '@kubernetes/client-node';
import { verifyTlsSecret } from '../test/jobs/issuance-harness.ts';
import {
  installKubeLego,
  installObjects,
  sandboxSettings,
  startSandbox,
  type Sandbox,
} from '../test/support/sandbox.ts';

const once = process.argv.includes('--once');
const say = (line: string) => process.stdout.write(`\x1b[1m==> ${line}\x1b[0m\n`);

/** Prints what each kube-lego pod logged since the last call, prefixed with the pod's name. */
function logStreamer(sandbox: Sandbox) {
  const printed = new Map<string, number>();
  const core = sandbox.kube.makeApiClient(CoreV1Api);
  return async () => {
    const pods = await core.listNamespacedPod({ namespace: 'kube-lego' });
    for (const pod of pods.items) {
      const name = pod.metadata!.name!;
      const text = sandbox.kubelet.podLogs('kube-lego', name);
      const from = printed.get(name) ?? 0;
      if (text.length <= from) continue;
      const label = pod.metadata?.labels?.['job-name'] ? `job ${name.slice(0, 28)}` : 'operator';
      for (const line of text.slice(from).split('\n').filter(Boolean))
        process.stdout.write(`[${label}] ${line}\n`);
      printed.set(name, text.length);
    }
  };
}

/** The example Ingress, with its hosts moved to the .test domain the sandbox's DNS answers. */
async function exampleIngress(): Promise<KubernetesObject> {
  const text = await readFile(new URL('../manifests/examples/ingress.yml', import.meta.url), 'utf8');
  return loadYaml<KubernetesObject>(text.replaceAll('example.com', 'demo.test'));
}

say(
  'starting the local cluster: etcd, kube-apiserver, kube-controller-manager, Pebble, process kubelet, ingress router',
);
const sandbox = await startSandbox();
const stream = logStreamer(sandbox);
const timer = setInterval(() => void stream().catch(() => undefined), 250);
try {
  say(`cluster up: kubeconfig ${sandbox.controlPlane.kubeconfigPath}`);
  say('kubectl apply -f manifests/install.yml (ConfigMap pointed at Pebble)');
  await installKubeLego(
    sandbox,
    await installObjects({ ...sandboxSettings(sandbox), LEGO_LOG_TYPE: 'text' }),
  );
  const ingress = await exampleIngress();
  say(`kubectl apply -f manifests/examples/ingress.yml (hosts on demo.test)`);
  await KubernetesObjectApi.makeApiClient(sandbox.kube).create(ingress);
  const core = sandbox.kube.makeApiClient(CoreV1Api);
  const secret = await eventually(
    'the Secret default/shop-tls',
    async () => {
      try {
        const found = await core.readNamespacedSecret({ namespace: 'default', name: 'shop-tls' });
        return found.data?.['tls.crt'] ? found : undefined;
      } catch {
        return undefined;
      }
    },
    120_000,
  );
  await stream();
  const leaf = verifyTlsSecret(secret, await sandbox.pebble.issuingRootPem(), [
    'shop.demo.test',
    'www.shop.demo.test',
  ]);
  say('certificate in Secret default/shop-tls');
  process.stdout.write(
    [
      `  subject:   ${leaf.subject || '(none: the names are in the SANs)'}`,
      `  SANs:      ${leaf.subjectAltName}`,
      `  issuer:    ${leaf.issuer}`,
      `  validity:  ${leaf.validFrom} to ${leaf.validTo}`,
      `  verified:  the chain leads to Pebble's root, and tls.key matches`,
      '',
    ].join('\n'),
  );
  if (!once) {
    say(`running; KUBECONFIG=${sandbox.controlPlane.kubeconfigPath} kubectl works against it. Ctrl-C stops.`);
    await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  }
} finally {
  clearInterval(timer);
  await sandbox.stop();
}
