/**
 * src/kube/secret-account-store.ts against a real kube-apiserver, authenticated as the issuance Jobs'
 * ServiceAccount (kube-lego-issuer) under the RBAC of manifests/install.yml, with the account Secret in the
 * operator's namespace as in production: a missing Secret reads as no account (404, not 403); the first
 * create wins and a second finds it taken (409); an update carries the resourceVersion it read, so a stale
 * one loses (409); a Secret left by jetstack kube-lego reads as belonging to no directory. The audit log
 * shows the requests of each path, none refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { StoredAccount } from '../../src/acme/account.ts';
import { ACCOUNT_KEYS, SecretAccountStore } from '../../src/kube/secret-account-store.ts';
import { restOf } from '../support/rest-of-kubeconfig.ts';
import {
  ISSUER,
  describeRequest,
  startRbacCluster,
  type RbacCluster,
  audited as auditedAs,
} from './rbac-harness.ts';

const decode = (value: string | undefined) => Buffer.from(value ?? '', 'base64').toString();

/** An account of the directory `directoryUrl`, its key marked `key`. */
const account = (key: string, directoryUrl = 'https://ca.test/directory'): StoredAccount => ({
  accountKeyPem: `-----BEGIN PRIVATE KEY-----\n${key}\n-----END PRIVATE KEY-----\n`,
  directoryUrl,
  accountUrl: `https://ca.test/account/${key}`,
  email: 'ops@kube-lego.test',
});

describe('SecretAccountStore as the issuer under the manifest RBAC', () => {
  let cluster: RbacCluster;
  let issuer: KubeConfig;
  let store: SecretAccountStore;
  let core: CoreV1Api;

  /** Runs `body` as the issuer; returns its result and the requests the issuer made meanwhile. */
  const audited = <T>(body: () => Promise<T>) => auditedAs(cluster, ISSUER, issuer, body);

  before(async () => {
    cluster = await startRbacCluster();
    core = cluster.admin.makeApiClient(CoreV1Api);
    issuer = await cluster.as(ISSUER);
    store = new SecretAccountStore(restOf(issuer), 'kube-lego', 'kube-lego-account');
  });

  after(async () => {
    await cluster?.stop();
  });

  it('reads no account while the Secret does not exist (404, not 403)', async () => {
    const { result, requests } = await audited(() => store.load());
    assert.equal(result, undefined);
    assert.deepEqual(requests.map(describeRequest), ['get secrets kube-lego/kube-lego-account → 404']);
  });

  it("creates the account Secret once: a second create finds it taken (409) and loads the first's account", async () => {
    const { result, requests } = await audited(async () => ({
      first: await store.create(account('first')),
      second: await store.create(account('second')),
      loaded: await store.load(),
    }));
    assert.equal(result.first, true);
    assert.equal(result.second, false);
    assert.deepEqual(result.loaded?.account, account('first'));
    assert.match(result.loaded!.version, /^\d+$/);
    assert.deepEqual(requests.map(describeRequest), [
      'create secrets kube-lego/kube-lego-account → 201',
      'create secrets kube-lego/kube-lego-account → 409',
      'get secrets kube-lego/kube-lego-account → 200',
    ]);
    const secret = await core.readNamespacedSecret({ namespace: 'kube-lego', name: 'kube-lego-account' });
    assert.equal(secret.type, 'Opaque');
    assert.equal(secret.metadata?.labels?.['app.kubernetes.io/managed-by'], 'kube-lego');
    assert.equal(decode(secret.data?.[ACCOUNT_KEYS.directory]), 'https://ca.test/directory');
    assert.equal(decode(secret.data?.[ACCOUNT_KEYS.key]), account('first').accountKeyPem);
  });

  it('updates the account only with the resourceVersion it read: a stale version loses (409)', async () => {
    const { version } = (await store.load())!;
    const moved = account('moved', 'https://other-ca.test/directory');
    const { result, requests } = await audited(async () => ({
      current: await store.update(moved, version),
      stale: await store.update(account('late'), version),
    }));
    assert.deepEqual(result, { current: true, stale: false });
    assert.deepEqual(requests.map(describeRequest), [
      'update secrets kube-lego/kube-lego-account → 200',
      'update secrets kube-lego/kube-lego-account → 409',
    ]);
    const loaded = (await store.load())!;
    assert.deepEqual(loaded.account, moved);
    assert.notEqual(loaded.version, version);
  });

  it('reads a Secret left by jetstack kube-lego as belonging to no directory, and replaces it', async () => {
    const legacy = new SecretAccountStore(restOf(issuer), 'kube-lego', 'legacy-account');
    await core.createNamespacedSecret({
      namespace: 'kube-lego',
      body: {
        metadata: { name: 'legacy-account' },
        data: { [ACCOUNT_KEYS.key]: Buffer.from('OLD KEY').toString('base64') },
      },
    });
    const { result, requests } = await audited(async () => {
      const loaded = (await legacy.load())!;
      return { loaded, replaced: await legacy.update(account('new'), loaded.version) };
    });
    assert.deepEqual(result.loaded.account, { accountKeyPem: 'OLD KEY', directoryUrl: '' });
    assert.equal(result.replaced, true);
    assert.deepEqual(requests.map(describeRequest), [
      'get secrets kube-lego/legacy-account → 200',
      'update secrets kube-lego/legacy-account → 200',
    ]);
    assert.deepEqual((await legacy.load())?.account, account('new'));
  });
});
