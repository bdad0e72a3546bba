/**
 * The issuance Job checks its Ingress before anything is asked of the CA: the issue-certificate diagram run
 * with the shipped tasks and a scripted Ingress check. A deleted or replaced Ingress ends at "Ingress gone"
 * with the outcome `IngressGone`, before the account is even loaded; an API error takes the step's error
 * boundary; a present Ingress goes on to the account. And the check itself, through a scripted API server
 * on loopback: 200 with the uid, 200 with another uid, 404, and an error.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { issueCertificate } from '../../jobs/issue-certificate.ts';
import type { AccountStore } from '../../src/acme/account.ts';
import { parseConfig } from '../../src/config.ts';
import type { IssuanceOrder, IssuanceOutcome } from '../../src/issuance/job-contract.ts';
import {
  apiIngressPresence,
  ingressPresence,
  type IngressIdentity,
  type IngressPresence,
} from '../../src/kube/ingress-presence.ts';
import { restClient } from '../../src/kube/rest-client.ts';
import type { IssuanceServices } from '../../tasks/issuance/services.ts';
import { silentLog } from './lifecycle-harness.ts';

const order: IssuanceOrder = {
  namespace: 'shop',
  secretName: 'shop-tls',
  hosts: ['shop.test'],
  ingressName: 'shop',
  ingressUid: 'uid-1',
};

/** An account store that records use: the CA is reached through the account, so no use means no request. */
function accountStore(used: string[]): AccountStore {
  const refuse = (what: string) => async (): Promise<never> => {
    used.push(what);
    throw new Error('no CA in unit tests');
  };
  return { load: refuse('load'), create: refuse('create'), update: refuse('update') };
}

/** Runs the shipped issue-certificate diagram with `check` as the Ingress check. */
async function run(check: (ingress: IngressIdentity) => Promise<IngressPresence>) {
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-issuance-'));
  const terminationMessagePath = join(dir, 'termination-log');
  const checked: IngressIdentity[] = [];
  const used: string[] = [];
  const services: IssuanceServices = {
    config: parseConfig({ LEGO_URL: 'http://127.0.0.1:9/directory' }),
    podIp: '127.0.0.1',
    accountStore: accountStore(used),
    certificateKey: () => assert.fail('no certificate key is asked for'),
    ingressPresence: (ingress) => {
      checked.push(ingress);
      return check(ingress);
    },
    secrets: {
      write: () => assert.fail('no Secret is written'),
    },
    solverEndpoint: { publish: () => assert.fail('no endpoint is published') },
    terminationMessagePath,
  };
  const result = await issueCertificate(order, services, silentLog);
  const outcome = JSON.parse(await readFile(terminationMessagePath, 'utf8')) as IssuanceOutcome;
  return { result, outcome, checked, used };
}

describe('the issue-certificate process checks the Ingress first', () => {
  it('ends at "Ingress gone" with IngressGone for a deleted Ingress, before the account or an order', async () => {
    const { result, outcome, checked, used } = await run(async (ingress) =>
      ingressPresence(ingress, undefined),
    );
    assert.equal(result.end, 'Ingress gone');
    assert.deepEqual(outcome, {
      succeeded: false,
      reason: 'IngressGone',
      message: 'Ingress shop/shop was deleted',
    });
    assert.deepEqual(checked, [{ namespace: 'shop', name: 'shop', uid: 'uid-1' }]);
    assert.deepEqual(used, [], 'the account store (and so the CA) untouched');
    assert.deepEqual(result.path, [
      'StartEvent_Order',
      'Task_CheckIngress',
      'Gateway_IngressPresent',
      'Task_CleanUpIngressGone',
      'Task_ReportIngressGone',
      'EndEvent_IngressGone',
    ]);
  });

  it('ends at "Ingress gone" for an Ingress replaced by one of the same name', async () => {
    const { result, outcome, used } = await run(async (ingress) => ingressPresence(ingress, 'uid-2'));
    assert.equal(result.end, 'Ingress gone');
    assert.equal(outcome.reason, 'IngressGone');
    assert.equal(outcome.message, 'Ingress shop/shop was replaced (uid changed)');
    assert.deepEqual(used, []);
  });

  it('takes the error boundary when the check itself fails', async () => {
    const { result, outcome, used } = await run(async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
    });
    assert.equal(result.end, 'failed');
    assert.deepEqual(outcome, {
      succeeded: false,
      reason: 'CheckIngressFailed',
      message: 'Check Ingress: connect ECONNREFUSED 127.0.0.1:6443',
    });
    assert.deepEqual(used, []);
  });

  it('goes on to the account when the Ingress is there', async () => {
    const { result, outcome, used } = await run(async (ingress) => ingressPresence(ingress, 'uid-1'));
    assert.equal(result.end, 'failed');
    assert.equal(outcome.reason, 'LoadAccountFailed');
    assert.ok(used.length > 0, 'the account store was asked');
    assert.deepEqual(result.path.slice(0, 3), [
      'StartEvent_Order',
      'Task_CheckIngress',
      'Gateway_IngressPresent',
    ]);
  });
});

/** A scripted API server on loopback answering reads of Ingress shop/shop; returns a client of it. */
async function apiServer(t: TestContext, answer: () => { status: number; body: object }) {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    const { status, body } = answer();
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const kube = restClient({
    server: new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}`),
  });
  return { kube, requests };
}

const ingressOf = (uid: string) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'shop', namespace: 'shop', uid },
});
const identity: IngressIdentity = { namespace: 'shop', name: 'shop', uid: 'uid-1' };

describe('apiIngressPresence', () => {
  it('reads the Ingress once and compares its uid', async (t) => {
    const { kube, requests } = await apiServer(t, () => ({ status: 200, body: ingressOf('uid-1') }));
    assert.deepEqual(await apiIngressPresence(kube)(identity), { present: true });
    assert.deepEqual(requests, ['GET /apis/networking.k8s.io/v1/namespaces/shop/ingresses/shop']);
  });

  it('finds an Ingress of the same name with another uid replaced', async (t) => {
    const { kube } = await apiServer(t, () => ({ status: 200, body: ingressOf('uid-2') }));
    assert.deepEqual(await apiIngressPresence(kube)(identity), {
      present: false,
      reason: 'Ingress shop/shop was replaced (uid changed)',
    });
  });

  it('finds a 404 deleted', async (t) => {
    const { kube } = await apiServer(t, () => ({
      status: 404,
      body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 },
    }));
    assert.deepEqual(await apiIngressPresence(kube)(identity), {
      present: false,
      reason: 'Ingress shop/shop was deleted',
    });
  });

  it('throws any other error', async (t) => {
    const { kube } = await apiServer(t, () => ({
      status: 403,
      body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403 },
    }));
    await assert.rejects(apiIngressPresence(kube)(identity), (error: unknown) => {
      assert.equal((error as { code?: number }).code, 403);
      return true;
    });
  });
});
