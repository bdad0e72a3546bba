/**
 * The process view's server over real HTTP: the page and bpmn-js from node_modules, the diagrams, where runs
 * stand, the certificates, the live stream; read-only, and nothing outside its files served.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Server } from 'node:http';
import { lastStep } from '../../src/kube/issuance-steps.ts';
import { OperatorView } from '../../src/view/operator-view.ts';
import { startViewServer } from '../../src/view/view-server.ts';
import { silentLog } from './lifecycle-harness.ts';

const NOW = Date.parse('2026-12-03T12:00:00Z');

let server: Server;
let base: string;
const view = new OperatorView('certificate-lifecycle', () => NOW);

/** GET (or another method) `path`: status, content type and body. */
function fetchText(path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const sent = httpRequest(`${base}${path}`, { method }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body }),
      );
    });
    sent.on('error', reject);
    sent.end();
  });
}

before(async () => {
  view.activity({
    run: 'run-1',
    key: 'shop/a-tls',
    element: 'Task_InspectCertificate',
    type: 'bpmn:ServiceTask',
    phase: 'enter',
  });
  view.lifecycle.wait('shop/b-tls', 'EndEvent_JobLaunched', 'its issuance Job');
  view.certificates.runEnded(
    { namespace: 'shop', secret: 'b-tls', hosts: ['b.shop.test'], ingress: 'shop/b' },
    {
      end: 'launched',
      verdict: { valid: false, reason: 'SecretMissing', message: 'the Secret does not exist' },
    },
  );
  view.certificates.eventRecorded('shop/b', {
    type: 'Normal',
    reason: 'CertificateIssued',
    message: 'written',
  });
  server = await startViewServer(0, '127.0.0.1', {
    view,
    lifecycleXml: '<definitions id="lifecycle"/>',
    issuanceXml: '<definitions id="issuance"/>',
    issuanceSteps: async () => [
      { job: 'kube-lego-b-tls-1', certificate: 'shop/b-tls', since: NOW, step: 'Task_CreateOrder' },
    ],
    leading: () => true,
    leader: () => 'kube-lego-0_1234',
    log: silentLog,
    pushMs: 50,
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

describe('process view server', () => {
  it('serves the page, its script and bpmn-js from node_modules', async () => {
    const page = await fetchText('/');
    assert.equal(page.status, 200);
    assert.match(page.body, /<script src="\/assets\/bpmn-viewer.js">/);
    const viewer = await fetchText('/assets/bpmn-viewer.js');
    assert.equal(viewer.status, 200);
    assert.match(viewer.type, /javascript/);
    assert.equal(
      viewer.body,
      await readFile(
        new URL('../../node_modules/bpmn-js/dist/bpmn-viewer.production.min.js', import.meta.url),
        'utf8',
      ),
    );
    assert.equal((await fetchText('/assets/diagram-js.css')).status, 200);
    assert.equal((await fetchText('/assets/bpmn-font/css/bpmn.css')).status, 200);
    assert.equal((await fetchText('/assets/view.js')).status, 200);
  });

  it('serves nothing outside its files', async () => {
    for (const path of [
      '/assets/../../../package.json',
      '/assets/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/etc/passwd',
      '/api/secrets',
    ]) {
      assert.equal((await fetchText(path)).status, 404, path);
    }
  });

  it('is read-only', async () => {
    assert.equal((await fetchText('/api/certificates', 'POST')).status, 405);
    assert.equal((await fetchText('/api/process', 'DELETE')).status, 405);
  });

  it('serves both diagrams as loaded', async () => {
    assert.equal(
      (await fetchText('/api/diagrams/certificate-lifecycle')).body,
      '<definitions id="lifecycle"/>',
    );
    assert.equal((await fetchText('/api/diagrams/issue-certificate')).body, '<definitions id="issuance"/>');
  });

  it('tells where runs stand, what waits for its Job, and where running Jobs stand', async () => {
    const state = JSON.parse((await fetchText('/api/process')).body);
    assert.equal(state.leading, true);
    assert.equal(state.lifecycle.elements.Task_InspectCertificate.standing[0].certificate, 'shop/a-tls');
    assert.equal(state.lifecycle.elements.EndEvent_JobLaunched.waiting[0].certificate, 'shop/b-tls');
    assert.deepEqual(state.issuance, [
      { job: 'kube-lego-b-tls-1', certificate: 'shop/b-tls', since: NOW, step: 'Task_CreateOrder' },
    ]);
  });

  it("lists the certificates with their state in words and their Ingress's last Event", async () => {
    const certificates = JSON.parse((await fetchText('/api/certificates')).body);
    assert.equal(certificates.length, 1);
    assert.equal(certificates[0].certificate, 'shop/b-tls');
    assert.equal(certificates[0].stateText, 'renewing (SecretMissing)');
    assert.equal(certificates[0].lastEvent.reason, 'CertificateIssued');
  });

  it('streams both as Server-Sent Events', async () => {
    const first = await new Promise<string>((resolve, reject) => {
      const sent = httpRequest(`${base}/api/stream`, (response) => {
        assert.match(String(response.headers['content-type']), /text\/event-stream/);
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
          const end = text.indexOf('\n\n');
          if (end >= 0) {
            sent.destroy();
            resolve(text.slice(0, end));
          }
        });
      });
      sent.on('error', reject);
      sent.end();
    });
    assert.match(first, /^event: update\ndata: /);
    const data = JSON.parse(first.slice(first.indexOf('data: ') + 6));
    assert.equal(data.certificates[0].certificate, 'shop/b-tls');
    assert.equal(data.process.lifecycle.process, 'certificate-lifecycle');
  });
});

describe("a running Job's step", () => {
  const table: [name: string, log: string, step: string | undefined][] = [
    [
      'the last step logged',
      '{"step":"Task_LoadAccount"}\n{"msg":"x"}\n{"step":"Task_CreateOrder"}\n{"msg":"order created"}\n',
      'Task_CreateOrder',
    ],
    ['none before the first', '{"msg":"starting"}\n', undefined],
    ['a line cut short is skipped', '{"step":"Task_CheckIngress"}\n{"step":"Task_Cre', 'Task_CheckIngress'],
    ['text lines are skipped', 'kube-lego: starting\n{"step":"Task_FinalizeOrder"}\n', 'Task_FinalizeOrder'],
  ];
  for (const [name, log, step] of table) it(name, () => assert.equal(lastStep(log), step));
});
