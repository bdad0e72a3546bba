/**
 * The issuance Job program, run as a process against a real Pebble and a real API server: it issues real
 * certificates into Secrets owned by the Ingress, keeps one ACME account, reports failures with a reason,
 * and never logs key material.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { claimAddress, type ClaimedAddress } from '../support/loopback.ts';
import { allStarted } from '../support/start-all.ts';
import { startPebble, type Pebble } from '../support/pebble.ts';
import {
  createIngress,
  ensureNamespace,
  readSecret,
  runIssuanceJob,
  verifyTlsSecret,
} from './issuance-harness.ts';

const decode = (value: string | undefined) => Buffer.from(value ?? '', 'base64').toString();

describe('issuance Job program', () => {
  let controlPlane: ControlPlane;
  let pebble: Pebble;
  let kube: KubeConfig;
  /** The Job process's own address, where it answers challenges: every name resolves to it. */
  let pod: ClaimedAddress;

  before(async () => {
    pod = await claimAddress();
    [controlPlane, pebble] = await allStarted<[ControlPlane, Pebble]>([
      startControlPlane(),
      startPebble({ challengeAddress: pod.address }),
    ]);
    kube = controlPlane.kubeConfig();
    await ensureNamespace(kube, 'kube-lego');
    await ensureNamespace(kube, 'shop');
  });

  after(async () => {
    await Promise.all([pebble?.stop(), controlPlane?.stop()]);
    await pod?.release();
  });

  it('issues a certificate for one host into a tls Secret owned by the Ingress', async () => {
    const uid = await createIngress(kube, 'shop', 'one', 'one-tls', ['one.shop.test']);
    const order = {
      namespace: 'shop',
      secretName: 'one-tls',
      hosts: ['one.shop.test'],
      ingressName: 'one',
      ingressUid: uid,
    };
    const run = await runIssuanceJob(controlPlane, pebble, order);
    assert.equal(run.code, 0, run.output);
    assert.equal(run.outcome?.succeeded, true);
    assert.equal(run.outcome?.reason, 'Issued');
    const secret = (await readSecret(kube, 'shop', 'one-tls'))!;
    assert.equal(secret.type, 'kubernetes.io/tls');
    verifyTlsSecret(secret, await pebble.issuingRootPem(), ['one.shop.test']);
    assert.deepEqual(
      secret.metadata?.ownerReferences?.map((owner) => [owner.kind, owner.name, owner.uid]),
      [['Ingress', 'one', uid]],
    );
    assert.equal(secret.metadata?.annotations?.['kube-lego.io/issuer-url'], pebble.directoryUrl);
    assert.equal(secret.metadata?.annotations?.['kube-lego.io/hosts'], 'one.shop.test');
    // Nothing of the account key or the certificate key appears in the Job's output.
    const account = (await readSecret(kube, 'kube-lego', 'kube-lego-account'))!;
    const keyLines = [decode(secret.data?.['tls.key']), decode(account.data?.['account.key'])]
      .flatMap((pem) => pem.split('\n'))
      .filter((line) => line.length > 20 && !line.startsWith('-----'));
    assert.ok(keyLines.length > 4);
    for (const line of keyLines) assert.ok(!run.output.includes(line), 'key material in the Job output');
    assert.doesNotMatch(run.output, /PRIVATE KEY/);
  });

  it('issues for several hosts, keeps foreign labels of an existing Secret, and reuses the account', async () => {
    const hosts = ['a.multi.test', 'b.multi.test', 'c.multi.test'];
    const uid = await createIngress(kube, 'shop', 'multi', 'multi-tls', hosts);
    const accountBefore = await readSecret(kube, 'kube-lego', 'kube-lego-account');
    await kube.makeApiClient((await import('@kubernetes/client-node')).CoreV1Api).createNamespacedSecret({
      namespace: 'shop',
      body: {
        metadata: {
          name: 'multi-tls',
          labels: { team: 'web' },
          annotations: { 'example.test/note': 'keep me' },
        },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': '', 'tls.key': '' },
      },
    });
    const run = await runIssuanceJob(controlPlane, pebble, {
      namespace: 'shop',
      secretName: 'multi-tls',
      hosts,
      ingressName: 'multi',
      ingressUid: uid,
    });
    assert.equal(run.code, 0, run.output);
    const secret = (await readSecret(kube, 'shop', 'multi-tls'))!;
    verifyTlsSecret(secret, await pebble.issuingRootPem(), hosts);
    assert.equal(secret.metadata?.labels?.team, 'web');
    assert.equal(secret.metadata?.annotations?.['example.test/note'], 'keep me');
    const accountAfter = (await readSecret(kube, 'kube-lego', 'kube-lego-account'))!;
    assert.ok(accountBefore, 'the first test registered an account');
    assert.equal(decode(accountAfter.data?.['account.url']), decode(accountBefore.data?.['account.url']));
  });

  it('registers a new account by itself when LEGO_URL points at another CA', async () => {
    const other = await startPebble({ challengeAddress: pod.address });
    try {
      const before = (await readSecret(kube, 'kube-lego', 'kube-lego-account'))!;
      const uid = await createIngress(kube, 'shop', 'moved', 'moved-tls', ['moved.shop.test']);
      const run = await runIssuanceJob(controlPlane, other, {
        namespace: 'shop',
        secretName: 'moved-tls',
        hosts: ['moved.shop.test'],
        ingressName: 'moved',
        ingressUid: uid,
      });
      assert.equal(run.code, 0, run.output);
      verifyTlsSecret((await readSecret(kube, 'shop', 'moved-tls'))!, await other.issuingRootPem(), [
        'moved.shop.test',
      ]);
      const after = (await readSecret(kube, 'kube-lego', 'kube-lego-account'))!;
      assert.equal(decode(after.data?.['directory.url']), other.directoryUrl);
      assert.notEqual(decode(after.data?.['account.key']), decode(before.data?.['account.key']));
    } finally {
      await other.stop();
    }
  });

  it('fails with SelfCheckFailed naming the host when the challenge URL does not answer', async () => {
    const uid = await createIngress(kube, 'shop', 'unreachable', 'unreachable-tls', [
      'unreachable.shop.test',
    ]);
    const run = await runIssuanceJob(
      controlPlane,
      pebble,
      {
        namespace: 'shop',
        secretName: 'unreachable-tls',
        hosts: ['unreachable.shop.test'],
        ingressName: 'unreachable',
        ingressUid: uid,
      },
      // Nothing listens there: the pod's address is ours, and the Job serves only its HTTP-01 port.
      {
        LEGO_SELF_CHECK_PORT: String(pebble.httpPort + 1),
        LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '500ms',
      },
    );
    assert.equal(run.code, 1);
    assert.equal(run.outcome?.succeeded, false);
    assert.equal(run.outcome?.reason, 'SelfCheckFailed');
    assert.match(run.outcome!.message, /unreachable\.shop\.test/);
    assert.equal(await readSecret(kube, 'shop', 'unreachable-tls'), undefined);
  });

  it('reports a CA error without crashing', async () => {
    const uid = await createIngress(kube, 'shop', 'refused', 'refused-tls', ['refused.shop.test']);
    const run = await runIssuanceJob(
      controlPlane,
      pebble,
      {
        namespace: 'shop',
        secretName: 'refused-tls',
        hosts: ['refused.shop.test'],
        ingressName: 'refused',
        ingressUid: uid,
      },
      { LEGO_ACME_PROFILE: 'no-such-profile' },
    );
    assert.equal(run.code, 1, run.output);
    assert.equal(run.outcome?.reason, 'CreateOrderFailed');
    assert.match(run.outcome!.message, /profile/i);
  });

  it('writes nothing when the Ingress was deleted before the certificate came', async () => {
    const uid = await createIngress(kube, 'shop', 'gone', 'gone-tls', ['gone.shop.test']);
    await kube.makeApiClient(NetworkingV1Api).deleteNamespacedIngress({ namespace: 'shop', name: 'gone' });
    const run = await runIssuanceJob(controlPlane, pebble, {
      namespace: 'shop',
      secretName: 'gone-tls',
      hosts: ['gone.shop.test'],
      ingressName: 'gone',
      ingressUid: uid,
    });
    assert.equal(run.outcome?.reason, 'WriteSecretFailed');
    assert.match(run.outcome!.message, /Ingress shop\/gone was deleted/);
    assert.equal(await readSecret(kube, 'shop', 'gone-tls'), undefined);
  });
});
