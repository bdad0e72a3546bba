/** `kube-lego status`: its arguments, the state read from what it finds, and the table it prints. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseArguments } from '../../src/cli/arguments.ts';
import { statusOf, type CertificateRow } from '../../src/cli/certificate-statuses.ts';
import type { PolicyVerdict } from '../../src/certificate/policy.ts';
import { formatTable } from '../../src/view/certificate-table.ts';
import { request } from './certificate-request.ts';

const NOW = Date.parse('2026-12-03T12:00:00Z');
const DAY = 86_400_000;

describe('kube-lego arguments', () => {
  const table: [string[], ReturnType<typeof parseArguments>][] = [
    [[], { command: 'help' }],
    [['status'], { command: 'status', output: 'table', operatorNamespace: 'kube-lego' }],
    [
      ['status', 'shop/shop-tls', '-o', 'json'],
      { command: 'status', output: 'json', operatorNamespace: 'kube-lego', target: 'shop/shop-tls' },
    ],
    [
      ['status', 'shop', '--operator-namespace', 'certs'],
      { command: 'status', output: 'table', operatorNamespace: 'certs', target: 'shop' },
    ],
    [['status', '-o', 'yaml'], '-o takes json or table, not "yaml"'],
    [['status', 'a', 'b'], 'one certificate or namespace at most, not "a" and "b"'],
    [['status', '--all'], 'unknown option "--all"'],
    [['renew'], 'unknown command "renew"'],
  ];
  for (const [argv, expected] of table) {
    it(argv.join(' ') || '(none)', () => assert.deepEqual(parseArguments(argv), expected));
  }
});

const verdict = (overrides: Partial<PolicyVerdict>): PolicyVerdict => ({
  valid: true,
  foreign: false,
  reason: 'Valid',
  message: 'valid',
  notAfter: NOW + 60 * DAY,
  renewAt: NOW + 30 * DAY,
  ...overrides,
});

describe('the state read from the cluster', () => {
  const table: [
    name: string,
    findings: Parameters<typeof statusOf>[0]['verdict'],
    job: Parameters<typeof statusOf>[0]['job'],
    stateText: string,
  ][] = [
    ['a good certificate, no Job: valid', verdict({}), { state: 'none' }, 'valid'],
    ['a good certificate, its old Job kept: valid', verdict({}), { state: 'stale', failures: 0 }, 'valid'],
    [
      'a Job running: renewing, why',
      verdict({ valid: false, reason: 'RenewalDue' }),
      { state: 'running' },
      'renewing (RenewalDue)',
    ],
    [
      'a failed Job not due again: backing off until then',
      verdict({ valid: false, reason: 'SecretMissing' }),
      { state: 'backingOff', retryAt: NOW + 60_000, failures: 1 },
      'backing off until 2026-12-03T12:01:00Z (SecretMissing)',
    ],
    [
      'needs issuance, no Job yet: pending',
      verdict({ valid: false, reason: 'SecretMissing' }),
      { state: 'none' },
      'pending',
    ],
    [
      "another controller's Secret",
      verdict({ valid: false, foreign: true, reason: 'ForeignSecret' }),
      { state: 'none' },
      "not kube-lego's (ForeignSecret)",
    ],
  ];
  for (const [name, found, job, stateText] of table) {
    it(name, () =>
      assert.equal(statusOf({ request: request(), verdict: found, job }, NOW).stateText, stateText),
    );
  }
});

describe('the status table', () => {
  const row = (overrides: Partial<CertificateRow>): CertificateRow => ({
    certificate: 'shop/shop-tls',
    namespace: 'shop',
    secret: 'shop-tls',
    hosts: ['shop.test', 'www.shop.test'],
    ingress: 'shop/shop',
    notAfter: Date.parse('2027-03-03T12:00:00Z'),
    renewAt: Date.parse('2027-02-01T12:00:00Z'),
    state: 'valid',
    since: NOW,
    stateText: 'valid',
    ...overrides,
  });

  it('lines the columns up under their titles', () => {
    const text = formatTable([
      row({}),
      row({
        certificate: 'blog/blog-tls',
        hosts: ['blog.test'],
        ingress: 'blog/blog',
        state: 'failed',
        stateText: 'failed: SelfCheckFailed',
        lastEvent: { type: 'Warning', reason: 'SelfCheckFailed', message: 'no answer', at: NOW },
      }),
    ]);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^CERTIFICATE\s+HOSTS\s+NOT AFTER\s+RENEWAL\s+STATE\s+INGRESS\s+LAST EVENT$/);
    const stateColumn = lines[0]!.indexOf('STATE');
    assert.equal(lines[1]!.slice(stateColumn, stateColumn + 5), 'valid');
    assert.equal(lines[2]!.slice(stateColumn, stateColumn + 23), 'failed: SelfCheckFailed');
    assert.match(lines[1]!, /2027-03-03T12:00Z\s+2027-02-01T12:00Z/);
    assert.match(lines[2]!, /SelfCheckFailed: no answer$/);
    assert.doesNotMatch(text, /\u001b\[/, 'no colour unless asked');
  });

  it('colours the state on a terminal', () => {
    assert.match(formatTable([row({})], { colour: true }), /\u001b\[32mvalid\s*\u001b\[0m/);
  });

  it('cuts a long last Event', () => {
    const text = formatTable(
      [
        row({
          lastEvent: { type: 'Normal', reason: 'CertificateIssued', message: 'x'.repeat(200), at: NOW },
        }),
      ],
      { lastEventWidth: 30 },
    );
    assert.match(text, /CertificateIssued: x+…\n$/);
    assert.equal(text.trimEnd().split('\n')[1]!.split('  ').at(-1)!.length, 30);
  });
});
