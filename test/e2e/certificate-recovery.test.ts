/**
 * Recovery without the periodic check, end to end on the local cluster: with the check an hour away, a
 * certificate Secret that is deleted, or taken by the garbage collector when its Ingress is deleted and
 * created again under the same name (`kubectl replace --force`, a GitOps re-sync), is valid again within
 * seconds, through the certificate Secret watch and the diagram's "Secret changed" start. The time each
 * took is printed; `npm run bench` measures it against its target.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { readSecret } from '../jobs/issuance-harness.ts';
import { eventually } from '../support/cluster-testing.ts';
import type { Sandbox } from '../support/sandbox.ts';
import { ingressManifest, networking, operatorRuns, validSecret } from './e2e-harness.ts';
import { sandboxSuite } from './sandbox-suite.ts';

describe('certificate recovery, end to end', () => {
  let sandbox: Sandbox;
  // An hour between periodic checks: within a test, only the watches can bring a certificate back.
  sandboxSuite({
    settings: { LEGO_CHECK_INTERVAL: '1h', LEGO_JOB_TTL: '3s' },
    setUp: async (started) => {
      sandbox = started;
    },
  });

  it('brings a deleted certificate Secret back through the Secret watch', async () => {
    const hosts = ['deleted.shop.test'];
    await networking(sandbox.kube).createNamespacedIngress({
      namespace: 'shop',
      body: ingressManifest('deleted', [{ secretName: 'deleted-tls', hosts }]),
    });
    const first = await validSecret(sandbox, 'shop', 'deleted-tls', hosts);
    const deletedAt = Date.now();
    await sandbox.kube
      .makeApiClient(CoreV1Api)
      .deleteNamespacedSecret({ namespace: 'shop', name: 'deleted-tls' });
    const again = await validSecret(sandbox, 'shop', 'deleted-tls', hosts);
    process.stderr.write(`deleted Secret valid again after ${Date.now() - deletedAt} ms\n`);
    assert.notEqual(again.metadata?.uid, first.metadata?.uid, 'a new Secret');
    // The Secret watch's run ends at the Job's launch, or finds the first Job still running when the Secret
    // was deleted just after that Job wrote it (then the certificate is checked again when that Job ends);
    // the Job watch's run records the issuance just after the Job wrote the Secret.
    const runs = await eventually(
      'the operator logged the runs the Secret and Job watches started',
      async () => {
        const logged = await operatorRuns(sandbox, 'shop/deleted-tls');
        const launched = logged.find(
          (run) => run.trigger === 'secret' && (run.end === 'launched' || run.end === 'adopted'),
        );
        return launched !== undefined &&
          logged.some(
            (run) => run.trigger === 'job' && run.end === 'issued' && run.startedAt >= launched.endedAt,
          )
          ? logged
          : undefined;
      },
    );
    assert.equal(runs.filter((run) => run.trigger === 'periodic').length, 0, 'no periodic check ran');
  });

  it('re-issues for an Ingress deleted and created again under the same name, owned by the new one', async () => {
    const hosts = ['replaced.shop.test'];
    const api = networking(sandbox.kube);
    const body = ingressManifest('replaced', [{ secretName: 'replaced-tls', hosts }]);
    const old = await api.createNamespacedIngress({ namespace: 'shop', body });
    await validSecret(sandbox, 'shop', 'replaced-tls', hosts);
    const replacedAt = Date.now();
    await api.deleteNamespacedIngress({ namespace: 'shop', name: 'replaced' });
    const created = await api.createNamespacedIngress({ namespace: 'shop', body });
    assert.notEqual(created.metadata?.uid, old.metadata?.uid);
    const secret = await eventually(
      'the Secret valid again and owned by the new Ingress',
      async () => {
        const current = await readSecret(sandbox.kube, 'shop', 'replaced-tls');
        const owner = current?.metadata?.ownerReferences?.find((reference) => reference.kind === 'Ingress');
        return owner?.uid === created.metadata?.uid ? current : undefined;
      },
      60_000,
    );
    await validSecret(sandbox, 'shop', 'replaced-tls', hosts);
    process.stderr.write(`re-created Ingress's Secret valid again after ${Date.now() - replacedAt} ms\n`);
    assert.deepEqual(
      secret.metadata?.ownerReferences
        ?.filter((reference) => reference.kind === 'Ingress')
        .map((reference) => reference.uid),
      [created.metadata?.uid],
      'only the new Ingress owns it',
    );
    const runs = await operatorRuns(sandbox, 'shop/replaced-tls');
    assert.equal(runs.filter((run) => run.trigger === 'periodic').length, 0, 'no periodic check ran');
  });
});
