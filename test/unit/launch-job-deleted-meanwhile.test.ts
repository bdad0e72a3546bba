/**
 * Launching an issuance Job whose name a finished Job still holds (409), when that Job's TTL runs out
 * between the create and the read (404): the launch creates the Job again instead of failing the run, which
 * would leave the certificate to the next periodic check. Against a scripted API server over real HTTP.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { IssuanceObjects } from '../../src/issuance/job-objects.ts';
import { KubernetesCluster } from '../../src/kube/kubernetes-cluster.ts';
import { createLogger } from '../../src/log.ts';

const NAME = 'kube-lego-shop-tls-0123456789';

/** A JSON answer. */
function answer(response: ServerResponse, code: number, body: object): void {
  response.writeHead(code, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

const status = (code: number, reason: string) => ({
  kind: 'Status',
  apiVersion: 'v1',
  status: 'Failure',
  reason,
  code,
});

it('creates the Job again when the Job it would adopt is deleted before it is read', async (t) => {
  const requests: string[] = [];
  let jobExists = true; // a finished Job of the same name, about to be deleted by its TTL
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    const line = `${request.method} ${request.url?.split('?')[0]}`;
    requests.push(line);
    if (line === 'POST /apis/batch/v1/namespaces/kube-lego/jobs') {
      if (jobExists) return answer(response, 409, status(409, 'AlreadyExists'));
      jobExists = true;
      return answer(response, 201, { metadata: { name: NAME, namespace: 'kube-lego', uid: 'uid-new' } });
    }
    if (line === `GET /apis/batch/v1/namespaces/kube-lego/jobs/${NAME}`) {
      if (requests.filter((each) => each === line).length === 1) {
        jobExists = false; // the TTL controller deleted it between the 409 and this read
        return answer(response, 404, status(404, 'NotFound'));
      }
      return answer(response, 200, { metadata: { name: NAME, namespace: 'kube-lego', uid: 'uid-new' } });
    }
    return answer(response, 201, { metadata: { namespace: 'kube-lego' } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const kube = new KubeConfig();
  kube.loadFromOptions({
    // client-node refuses plain HTTP unless TLS verification is off; there is no TLS here to verify.
    clusters: [
      {
        name: 'test',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'test' }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
    currentContext: 'test',
  });
  const cluster = new KubernetesCluster(kube, createLogger({ level: 'silent', type: 'json' }));
  const objects = {
    job: { metadata: { name: NAME, namespace: 'kube-lego' } },
    service: { metadata: { name: 'solver', namespace: 'kube-lego' } },
    ingress: { metadata: { name: 'solver', namespace: 'kube-lego' } },
  } as IssuanceObjects;

  const launched = await cluster.launchIssuance(objects);

  assert.deepEqual(launched, { adopted: false });
  assert.deepEqual(requests, [
    'POST /apis/batch/v1/namespaces/kube-lego/jobs',
    `GET /apis/batch/v1/namespaces/kube-lego/jobs/${NAME}`,
    'POST /apis/batch/v1/namespaces/kube-lego/jobs',
    `GET /apis/batch/v1/namespaces/kube-lego/jobs/${NAME}`,
    'POST /api/v1/namespaces/kube-lego/services',
    'POST /apis/networking.k8s.io/v1/namespaces/kube-lego/ingresses',
  ]);
});
