/**
 * src/kube/tls-secret-writer.ts against a real kube-apiserver, authenticated as the issuance Jobs'
 * ServiceAccount (kube-lego-issuer) under the RBAC of manifests/install.yml, in an application namespace as
 * in production: it creates the `kubernetes.io/tls` Secret owned by the Ingress (and the garbage collector
 * honours that owner reference), updates an existing one keeping what others put on it, retries conflicts
 * of concurrent writers, writes nothing for a deleted or replaced Ingress, over a Secret of another type or
 * over another controller's Secret;
 * the audit log shows exactly the requests of each path, none refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CoreV1Api,
  NetworkingV1Api,
  type KubeConfig,
  type V1ObjectMeta,
  type V1Secret,
} from '@kubernetes/client-node';
import {
  ForeignSecretError,
  TlsSecretWriter,
  type IssuedCertificate,
} from '../../src/kube/tls-secret-writer.ts';
import { createNamespace, eventually, isStatus } from '../support/cluster-testing.ts';
import { createIngress } from '../jobs/issuance-harness.ts';
import { restOf } from '../support/rest-of-kubeconfig.ts';
import {
  ISSUER,
  describeRequest,
  requestKinds,
  startRbacCluster,
  type RbacCluster,
  audited as auditedAs,
} from './rbac-harness.ts';

const decode = (value: string | undefined) => Buffer.from(value ?? '', 'base64').toString();

describe('TlsSecretWriter as the issuer under the manifest RBAC', () => {
  let cluster: RbacCluster;
  let issuer: KubeConfig;
  let writer: TlsSecretWriter;
  let core: CoreV1Api;
  let shopUid: string;

  /** Runs `body` as the issuer; returns its result and the requests the issuer made meanwhile. */
  const audited = <T>(body: () => Promise<T>) => auditedAs(cluster, ISSUER, issuer, body);

  /** A certificate for `secretName` from the Ingress shop/shop. */
  const certificate = (secretName: string, serial = '1'): IssuedCertificate => ({
    namespace: 'shop',
    secretName,
    ingressName: 'shop',
    ingressUid: shopUid,
    hosts: ['shop.test', 'www.shop.test'],
    chainPem: `-----BEGIN CERTIFICATE-----\nLEAF ${serial}\n-----END CERTIFICATE-----\n`,
    keyPem: `-----BEGIN PRIVATE KEY-----\nKEY ${serial}\n-----END PRIVATE KEY-----\n`,
    issuerUrl: 'https://ca.test/directory',
    acmeProfile: undefined,
    notAfter: new Date('2030-01-01T00:00:00Z'),
  });

  const readSecret = async (name: string): Promise<V1Secret | undefined> => {
    try {
      return await core.readNamespacedSecret({ namespace: 'shop', name });
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  };

  before(async () => {
    cluster = await startRbacCluster();
    core = cluster.admin.makeApiClient(CoreV1Api);
    issuer = await cluster.as(ISSUER);
    writer = new TlsSecretWriter(restOf(issuer));
    await createNamespace(cluster.admin, 'shop');
    shopUid = await createIngress(cluster.admin, 'shop', 'shop', 'shop-tls', ['shop.test', 'www.shop.test']);
  });

  after(async () => {
    await cluster?.stop();
  });

  it("creates the tls Secret in the Ingress's namespace, owned by the Ingress, with kube-lego's annotations", async () => {
    const { result, requests } = await audited(() => writer.write(certificate('shop-tls')));
    assert.deepEqual(result, { written: true, created: true });
    assert.deepEqual(requests.map(describeRequest), [
      'get ingresses.networking.k8s.io shop/shop → 200',
      'get secrets shop/shop-tls → 404',
      'create secrets shop/shop-tls → 201',
    ]);
    const secret = (await readSecret('shop-tls'))!;
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.equal(decode(secret.data?.['tls.crt']), certificate('shop-tls').chainPem);
    assert.equal(decode(secret.data?.['tls.key']), certificate('shop-tls').keyPem);
    assert.equal(secret.metadata?.labels?.['app.kubernetes.io/managed-by'], 'kube-lego');
    assert.deepEqual(
      {
        issuer: secret.metadata?.annotations?.['kube-lego.io/issuer-url'],
        notAfter: secret.metadata?.annotations?.['kube-lego.io/not-after'],
        hosts: secret.metadata?.annotations?.['kube-lego.io/hosts'],
      },
      {
        issuer: 'https://ca.test/directory',
        notAfter: '2030-01-01T00:00:00.000Z',
        hosts: 'shop.test,www.shop.test',
      },
    );
    assert.deepEqual(
      secret.metadata?.ownerReferences?.map((owner) => ({ ...owner })),
      [
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          name: 'shop',
          uid: shopUid,
          blockOwnerDeletion: false,
        },
      ],
    );
  });

  it('updates an existing Secret, keeping the labels and annotations others put on it, owned by the Ingress alone', async () => {
    await core.createNamespacedSecret({
      namespace: 'shop',
      body: {
        metadata: {
          name: 'kept-tls',
          labels: { team: 'web' },
          annotations: { 'example.test/note': 'keep me' },
        },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': '', 'tls.key': '', extra: Buffer.from('mine').toString('base64') },
      },
    });
    const { result, requests } = await audited(() => writer.write(certificate('kept-tls', '2')));
    assert.deepEqual(result, { written: true, created: false });
    assert.deepEqual(requests.map(describeRequest), [
      'get ingresses.networking.k8s.io shop/shop → 200',
      'get secrets shop/kept-tls → 200',
      'update secrets shop/kept-tls → 200',
    ]);
    const secret = (await readSecret('kept-tls'))!;
    assert.equal(decode(secret.data?.['tls.crt']), certificate('kept-tls', '2').chainPem);
    assert.equal(decode(secret.data?.extra), 'mine');
    assert.equal(secret.metadata?.labels?.team, 'web');
    assert.equal(secret.metadata?.annotations?.['example.test/note'], 'keep me');
    assert.equal(secret.metadata?.annotations?.['kube-lego.io/issuer-url'], 'https://ca.test/directory');
    assert.deepEqual(
      secret.metadata?.ownerReferences?.map((each) => [each.kind, each.name, each.uid]),
      [['Ingress', 'shop', shopUid]],
    );
  });

  it("refuses to write over another controller's Secret, and leaves it as it was", async () => {
    const keeper = await core.createNamespacedConfigMap({
      namespace: 'shop',
      body: { metadata: { name: 'keeper' } },
    });
    const foreign: [name: string, metadata: V1ObjectMeta, manager: string][] = [
      [
        'configmap-tls',
        {
          ownerReferences: [
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'keeper', uid: keeper.metadata!.uid! },
          ],
        },
        'owned by ConfigMap keeper',
      ],
      [
        'helm-tls',
        { labels: { 'app.kubernetes.io/managed-by': 'Helm' } },
        'managed by Helm (label app.kubernetes.io/managed-by=Helm)',
      ],
      [
        'cert-manager-tls',
        { annotations: { 'cert-manager.io/certificate-name': 'shop' } },
        'managed by cert-manager (annotation cert-manager.io/certificate-name)',
      ],
    ];
    for (const [name, metadata, manager] of foreign) {
      await core.createNamespacedSecret({
        namespace: 'shop',
        body: {
          metadata: { name, ...metadata },
          type: 'kubernetes.io/tls',
          data: { 'tls.crt': Buffer.from('THEIRS').toString('base64'), 'tls.key': '' },
        },
      });
      const before = (await readSecret(name))!;
      const { requests } = await audited(() =>
        assert.rejects(writer.write(certificate(name)), (error: Error) => {
          assert.ok(error instanceof ForeignSecretError);
          assert.equal(
            error.message,
            `Secret shop/${name} is ${manager}: kube-lego does not write over it; ` +
              'remove the tls-acme annotation of Ingress shop/shop or name another secretName',
          );
          return true;
        }),
      );
      assert.deepEqual(requests.map(describeRequest), [
        'get ingresses.networking.k8s.io shop/shop → 200',
        `get secrets shop/${name} → 200`,
      ]);
      const after = (await readSecret(name))!;
      assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion, `${name} not written`);
      assert.equal(decode(after.data?.['tls.crt']), 'THEIRS');
    }
  });

  it('retries the conflicts of concurrent writers: each update is guarded by the resourceVersion it read', async () => {
    await writer.write(certificate('busy-tls', '0'));
    // Four writers at once: each round one wins and the others conflict, fewer rounds than the 5 retries.
    const serials = ['a', 'b', 'c', 'd'];
    const { result, requests } = await audited(() =>
      Promise.all(serials.map((serial) => writer.write(certificate('busy-tls', serial)))),
    );
    assert.deepEqual(
      result,
      serials.map(() => ({ written: true, created: false })),
    );
    assert.deepEqual(requestKinds(requests), [
      'get /secrets',
      'get networking.k8s.io/ingresses',
      'update /secrets',
    ]);
    const updates = requests.filter((each) => each.verb === 'update').map((each) => each.code);
    assert.equal(updates.filter((code) => code === 200).length, 4, updates.join(' '));
    assert.ok(updates.includes(409), `conflicts seen and retried: ${updates.join(' ')}`);
    const written = decode((await readSecret('busy-tls'))!.data?.['tls.crt']);
    assert.ok(serials.some((serial) => written === certificate('busy-tls', serial).chainPem));
  });

  it('writes nothing for an Ingress that was deleted, or replaced by one of the same name', async () => {
    const { result, requests } = await audited(async () => [
      await writer.write({ ...certificate('gone-tls'), ingressName: 'gone' }),
      await writer.write({ ...certificate('replaced-tls'), ingressUid: 'an-older-uid' }),
    ]);
    assert.deepEqual(result, [
      { written: false, reason: 'Ingress shop/gone was deleted' },
      { written: false, reason: 'Ingress shop/shop was replaced (uid changed)' },
    ]);
    assert.deepEqual(requests.map(describeRequest), [
      'get ingresses.networking.k8s.io shop/gone → 404',
      'get ingresses.networking.k8s.io shop/shop → 200',
    ]);
    assert.equal(await readSecret('gone-tls'), undefined);
    assert.equal(await readSecret('replaced-tls'), undefined);
  });

  it('refuses to write over a Secret of another type, and leaves it as it was', async () => {
    await core.createNamespacedSecret({
      namespace: 'shop',
      body: {
        metadata: { name: 'opaque-tls' },
        type: 'Opaque',
        data: { password: Buffer.from('s3').toString('base64') },
      },
    });
    const { requests } = await audited(() =>
      assert.rejects(
        writer.write(certificate('opaque-tls')),
        /shop\/opaque-tls exists with type Opaque, not kubernetes\.io\/tls/,
      ),
    );
    assert.deepEqual(requestKinds(requests), ['get /secrets', 'get networking.k8s.io/ingresses']);
    const secret = (await readSecret('opaque-tls'))!;
    assert.equal(secret.type, 'Opaque');
    assert.deepEqual(Object.keys(secret.data ?? {}), ['password']);
  });

  it('writes a Secret the garbage collector deletes with its Ingress', async () => {
    const uid = await createIngress(cluster.admin, 'shop', 'brief', 'brief-tls', ['brief.shop.test']);
    const { result } = await audited(() =>
      writer.write({
        ...certificate('brief-tls'),
        ingressName: 'brief',
        ingressUid: uid,
        hosts: ['brief.shop.test'],
      }),
    );
    assert.deepEqual(result, { written: true, created: true });
    await cluster.admin
      .makeApiClient(NetworkingV1Api)
      .deleteNamespacedIngress({ namespace: 'shop', name: 'brief' });
    await eventually(
      'the Secret collected with its Ingress',
      async () => (await readSecret('brief-tls')) === undefined,
      30_000,
    );
    assert.ok(await readSecret('shop-tls'), 'the other Ingress keeps its Secret');
  });
});
