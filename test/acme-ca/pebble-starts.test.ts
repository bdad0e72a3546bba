// The local ACME CA starts, serves its directory over HTTPS that a client trusts through caCertPem alone,
// offers ARI and profiles, hands out the root its certificates chain to, and resolves names to loopback only.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { get } from 'node:https';
import { after, before, test } from 'node:test';
import { startPebble, type Pebble } from '../support/pebble.ts';

/** GETs `url` trusting only `ca`, and parses the body as JSON. Pebble wants a User-Agent. */
function getJson(url: string, ca: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    get(url, { ca, headers: { 'user-agent': 'kube-lego-tests' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`GET ${url}: HTTP ${res.statusCode}: ${body}`));
        resolve(JSON.parse(body) as Record<string, unknown>);
      });
    }).on('error', reject);
  });
}

let pebble: Pebble;
before(async () => {
  pebble = await startPebble();
});
after(async () => {
  await pebble?.stop();
});

test('the directory answers over HTTPS trusted through caCertPem, on a loopback address of its own', async () => {
  assert.match(pebble.directoryUrl, /^https:\/\/127\.\d+\.\d+\.\d+:14000\/dir$/);
  assert.notEqual(new URL(pebble.directoryUrl).hostname, '127.0.0.1');
  const directory = await getJson(pebble.directoryUrl, pebble.caCertPem);
  assert.equal(typeof directory['newOrder'], 'string');
  assert.equal(typeof directory['renewalInfo'], 'string', 'ARI (RFC 9773) is offered');
  const meta = directory['meta'] as { profiles?: Record<string, string> } | undefined;
  assert.deepEqual(Object.keys(meta?.profiles ?? {}).sort(), ['default', 'shortlived', 'tlsserver']);
});

test('the issuing root parses as a CA certificate', async () => {
  const root = new X509Certificate(await pebble.issuingRootPem());
  assert.equal(root.ca, true);
  assert.ok(root.checkIssued(root), 'the root is self-issued');
});

test('its DNS server answers A with loopback addresses only, and AAAA with nothing', async () => {
  const resolver = new Resolver();
  resolver.setServers([pebble.dnsServer]);
  assert.deepEqual(await resolver.resolve4('any.example.test'), ['127.0.0.1']);
  await assert.rejects(resolver.resolve6('any.example.test'), { code: 'ENODATA' });
  await pebble.addARecord('pod.example.test', '127.0.0.5');
  assert.deepEqual(await resolver.resolve4('pod.example.test'), ['127.0.0.5']);
  await assert.rejects(pebble.addARecord('elsewhere.example.test', '10.0.0.1'), /outside 127\.0\.0\.0\/8/);
});
