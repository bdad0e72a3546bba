/**
 * The issuance Job program, run as a process against a real Pebble and a real API server: it issues real
 * certificates into Secrets owned by the Ingress, keeps one ACME account, reports failures with a reason,
 * never logs key material, and checks its Ingress (uid) before ordering and again before finalizing: an
 * Ingress deleted or replaced ends `IngressGone` with no order at the CA, or with an order never finalized.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { NetworkingV1Api, type KubeConfig } from '@kubernetes/client-node';
import { startControlPlane, type ControlPlane } from '../support/control-plane.ts';
import { claimAddress, type ClaimedAddress } from '../support/loopback.ts';
import { allStarted } from '../support/start-all.ts';
import { startPebble, type Pebble } from '../support/pebble.ts';
import { ordersFor, type AccountSource } from '../support/pebble-orders.ts';
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

  /**
   * The account the cluster keeps, at `ca`: the Jobs before have registered it there (the test of another
   * CA moved it away, and the tests after it moved it back).
   */
  const accountAt = (ca: Pebble): AccountSource => ({ kube, caPem: ca.caCertPem });

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

  it('ends IngressGone for a deleted Ingress before any order: nothing asked of the CA, nothing written', async () => {
    const hosts = ['gone.shop.test'];
    const uid = await createIngress(kube, 'shop', 'gone', 'gone-tls', hosts);
    await kube.makeApiClient(NetworkingV1Api).deleteNamespacedIngress({ namespace: 'shop', name: 'gone' });
    const run = await runIssuanceJob(controlPlane, pebble, {
      namespace: 'shop',
      secretName: 'gone-tls',
      hosts,
      ingressName: 'gone',
      ingressUid: uid,
    });
    assert.equal(run.code, 1, run.output);
    assert.deepEqual(run.outcome, {
      succeeded: false,
      reason: 'IngressGone',
      message: 'Ingress shop/gone was deleted',
    });
    assert.deepEqual(await ordersFor(accountAt(pebble), hosts), [], 'no order at the CA');
    assert.equal(await readSecret(kube, 'shop', 'gone-tls'), undefined);
  });

  it('ends IngressGone for an Ingress deleted and created again under the same name (another uid)', async () => {
    const hosts = ['again.shop.test'];
    const oldUid = await createIngress(kube, 'shop', 'again', 'again-tls', hosts);
    await kube.makeApiClient(NetworkingV1Api).deleteNamespacedIngress({ namespace: 'shop', name: 'again' });
    const newUid = await createIngress(kube, 'shop', 'again', 'again-tls', hosts);
    assert.notEqual(newUid, oldUid);
    const run = await runIssuanceJob(controlPlane, pebble, {
      namespace: 'shop',
      secretName: 'again-tls',
      hosts,
      ingressName: 'again',
      ingressUid: oldUid,
    });
    assert.equal(run.code, 1, run.output);
    assert.equal(run.outcome?.reason, 'IngressGone');
    assert.equal(run.outcome?.message, 'Ingress shop/again was replaced (uid changed)');
    assert.deepEqual(await ordersFor(accountAt(pebble), hosts), [], 'no order at the CA');
    assert.equal(await readSecret(kube, 'shop', 'again-tls'), undefined);
  });

  it('checks again before finalizing: an Ingress deleted during validation costs no certificate', async () => {
    const hosts = ['late.shop.test'];
    const uid = await createIngress(kube, 'shop', 'late', 'late-tls', hosts);
    // The self-check goes through this proxy on the pod's address: its first request deletes the Ingress
    // (and is answered 503, so the self-check retries), later ones reach the Job's responder. Pebble
    // validates at the responder itself, so the order is validated with the Ingress already gone.
    let deleted: Promise<unknown> | undefined;
    const proxy = createServer((request, response) => {
      if (deleted === undefined) {
        deleted = kube
          .makeApiClient(NetworkingV1Api)
          .deleteNamespacedIngress({ namespace: 'shop', name: 'late' });
        response.writeHead(503).end();
        return;
      }
      void deleted.then(() => {
        const upstream = httpRequest(
          {
            host: pebble.challengeAddress,
            port: pebble.httpPort,
            path: request.url,
            method: request.method,
            headers: request.headers,
          },
          (answer) => {
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(response);
          },
        );
        upstream.on('error', () => response.writeHead(502).end());
        upstream.end();
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, pebble.challengeAddress, resolve));
    try {
      const run = await runIssuanceJob(
        controlPlane,
        pebble,
        { namespace: 'shop', secretName: 'late-tls', hosts, ingressName: 'late', ingressUid: uid },
        { LEGO_SELF_CHECK_PORT: String((proxy.address() as AddressInfo).port) },
      );
      assert.ok(deleted !== undefined, `the self-check went through the proxy: ${run.output}`);
      assert.equal(run.code, 1, run.output);
      assert.deepEqual(run.outcome, {
        succeeded: false,
        reason: 'IngressGone',
        message: 'Ingress shop/late was deleted',
      });
      // One order, validated and never finalized: no certificate was issued for it.
      const orders = await ordersFor(accountAt(pebble), hosts);
      assert.deepEqual(
        orders.map((order) => order.status),
        ['ready'],
      );
      assert.equal(await readSecret(kube, 'shop', 'late-tls'), undefined);
    } finally {
      proxy.close();
    }
  });
});
