/**
 * What users see of their certificates, end to end on the local cluster: the operator's process view in a
 * real browser (Debian's Chromium driven by puppeteer-core), and `kube-lego status` at a terminal.
 *
 * An issuance is held at its self-check (its host resolves to an address nobody answers on): the page
 * shows the certificate waiting at "launched" for its Job and the Job standing at "Self-check challenge
 * URLs" on the issue-certificate diagram; once the host resolves to the router, the Job ends and the page
 * shows the run at "issued" and the certificate valid in the table. `KUBE_LEGO_SCREENSHOT=<path>` saves the
 * page then (scripts/screenshot-view.ts makes docs/process-view.png that way).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { ensureChromium } from '../support/chromium.ts';
import { eventually } from '../support/cluster-testing.ts';
import { loopbackOf } from '../support/kubelet.ts';
import { claimAddress, type ClaimedAddress } from '../support/loopback.ts';
import type { Sandbox } from '../support/sandbox.ts';
import { ingressManifest, leaderPod, networking, validSecret } from './e2e-harness.ts';
import { sandboxSuite } from './sandbox-suite.ts';

const HOST = 'view.shop.test';

/** A browser-side expression: the count `kind` (standing, waiting, ended) of an element's overlay, 0 if none. */
const count = (diagram: string, element: string, kind: 'standing' | 'waiting' | 'ended') =>
  `Number(document.querySelector('${diagram} .overlay[data-element="${element}"]')?.dataset.${kind} ?? 0)`;

/** Waits until the page shows a count above 0; else fails with what the view's API said meanwhile. */
async function showsSome(
  page: Page,
  diagram: string,
  element: string,
  kind: 'standing' | 'waiting' | 'ended',
) {
  try {
    await page.waitForFunction(`${count(diagram, element, kind)} > 0`, { timeout: 60_000 });
  } catch (error) {
    const state = await page.evaluate(`fetch('/api/process').then((answer) => answer.text())`).catch(String);
    throw new Error(
      `${diagram} ${element} shows no ${kind}: ${(error as Error).message}\n/api/process: ${String(state)}`,
    );
  }
}

/** The count the page shows now. */
const shown = (page: Page, diagram: string, element: string, kind: 'standing' | 'waiting' | 'ended') =>
  page.evaluate(count(diagram, element, kind)) as Promise<number>;

describe('the process view and the status command, end to end', () => {
  let sandbox: Sandbox;
  let nowhere: ClaimedAddress;
  let browser: Browser | undefined;
  let page: Page;
  let viewUrl: string;
  sandboxSuite({
    // The self-check retries for two minutes: the Job stands at it while the test looks.
    settings: { LEGO_EXPONENTIAL_BACKOFF_MAX_ELAPSED_TIME: '2m', LEGO_EXPONENTIAL_BACKOFF_MULTIPLIER: '1.2' },
    setUp: async (started) => {
      sandbox = started;
      nowhere = await claimAddress();
      browser = await puppeteer.launch({
        executablePath: ensureChromium(),
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      });
      page = await browser.newPage();
      await page.setViewport({ width: 1600, height: 1500 });
    },
    cleanUp: async () => {
      await browser?.close();
      await nowhere?.release();
    },
  });

  it('renders the lifecycle diagram from bpmn-js, served by the leader on its pod IP', async () => {
    const leader = await eventually('a leader', () => leaderPod(sandbox));
    const pod = await sandbox.kube
      .makeApiClient(CoreV1Api)
      .readNamespacedPod({ namespace: 'kube-lego', name: leader });
    viewUrl = `http://${loopbackOf(pod.status!.podIP!)}:8081/`;
    await page.goto(viewUrl);
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 30_000 });
    for (const element of ['Task_InspectCertificate', 'Gateway_RenewalWindow', 'EndEvent_Issued']) {
      assert.ok(await page.$(`#lifecycle .djs-element[data-element-id="${element}"]`), `${element} drawn`);
    }
    assert.ok(
      await page.$('#issuance .djs-element[data-element-id="Task_SelfCheck"]'),
      'the Job diagram drawn',
    );
    await page.waitForSelector('body[data-updates]', { timeout: 10_000 });
    assert.equal(await page.evaluate(`document.querySelector('#standby').hidden`), true);
  });

  it('shows a token waiting for its Job at "launched", the Job at its step, then the run at "issued"', async (t) => {
    await sandbox.pebble.addARecord(HOST, nowhere.address);
    await networking(sandbox.kube).createNamespacedIngress({
      namespace: 'shop',
      body: ingressManifest('view', [{ secretName: 'view-tls', hosts: [HOST] }]),
    });
    await showsSome(page, '#lifecycle', 'EndEvent_JobLaunched', 'waiting');
    assert.equal(await shown(page, '#lifecycle', 'EndEvent_JobLaunched', 'waiting'), 1);
    await showsSome(page, '#issuance', 'Task_SelfCheck', 'standing');
    const waitingRow = await page.$eval(
      '#certificates tr[data-certificate="shop/view-tls"]',
      (row) => row.textContent,
    );
    assert.match(waitingRow ?? '', /renewing \(SecretMissing\)/);
    await page.click('#lifecycle .djs-element[data-element-id="EndEvent_JobLaunched"]');
    await page.waitForSelector('#details:not([hidden])');
    assert.match(
      (await page.$eval('#details-rows', (rows) => rows.textContent)) ?? '',
      /shop\/view-tls\s*waiting/,
    );

    await sandbox.pebble.addARecord(HOST, sandbox.pebble.challengeAddress);
    await validSecret(sandbox, 'shop', 'view-tls', [HOST]);
    await showsSome(page, '#lifecycle', 'EndEvent_Issued', 'ended');
    await page.waitForSelector('#certificates tr[data-certificate="shop/view-tls"] td.state-valid', {
      timeout: 60_000,
    });
    assert.equal(
      await shown(page, '#lifecycle', 'EndEvent_JobLaunched', 'waiting'),
      0,
      'nothing waits any more',
    );
    const screenshot = process.env.KUBE_LEGO_SCREENSHOT ?? join(tmpdir(), 'kube-lego-process-view.png');
    await writeFile(screenshot, await page.screenshot({ fullPage: true }));
    t.diagnostic(`screenshot: ${screenshot}`);
  });

  it('lists the certificates in /api/certificates, and `kube-lego status` prints the same', async () => {
    const response = await fetch(`${viewUrl}api/certificates`);
    const fromView = (await response.json()) as {
      certificate: string;
      state: string;
      notAfter: number;
      renewAt: number;
      hosts: string[];
    }[];
    const mine = fromView.find((row) => row.certificate === 'shop/view-tls');
    assert.equal(mine?.state, 'valid');
    assert.deepEqual(mine?.hosts, [HOST]);
    const env = { ...process.env, KUBECONFIG: sandbox.controlPlane.kubeconfigPath };
    const json = spawnSync(process.execPath, ['bin/kube-lego.js', 'status', 'shop/view-tls', '-o', 'json'], {
      env,
      encoding: 'utf8',
    });
    assert.equal(json.status, 0, json.stderr);
    const [fromCluster] = JSON.parse(json.stdout) as {
      certificate: string;
      state: string;
      notAfter: number;
      renewAt: number;
      hosts: string[];
      lastEvent?: { reason: string };
    }[];
    assert.equal(fromCluster?.certificate, 'shop/view-tls');
    assert.equal(fromCluster?.state, 'valid');
    assert.equal(fromCluster?.notAfter, mine?.notAfter);
    assert.equal(fromCluster?.renewAt, mine?.renewAt, "the same point of the CA's renewal window");
    assert.equal(fromCluster?.lastEvent?.reason, 'CertificateIssued');
    const table = spawnSync(process.execPath, ['bin/kube-lego.js', 'status'], { env, encoding: 'utf8' });
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^CERTIFICATE\s+HOSTS\s+NOT AFTER\s+RENEWAL\s+STATE\s+INGRESS\s+LAST EVENT\n/);
    assert.match(
      table.stdout,
      /shop\/view-tls\s+view\.shop\.test\s+\S+\s+\S+\s+valid\s+shop\/view\s+CertificateIssued: /,
    );
    assert.doesNotMatch(table.stdout, /\u001b\[/, 'no colour when not a terminal');
    process.stderr.write(`kube-lego status:\n${table.stdout}`);
    const missing = spawnSync(process.execPath, ['bin/kube-lego.js', 'status', 'shop/nonesuch'], {
      env,
      encoding: 'utf8',
    });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no annotated Ingress claims Secret shop\/nonesuch/);
  });
});
