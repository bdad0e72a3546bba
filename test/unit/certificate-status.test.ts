/** The status of a certificate after each kind of run, as the process view and `kube-lego status` show it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  describeState,
  nextStatus,
  type CertificateStatus,
  type RunFacts,
} from '../../src/view/certificate-status.ts';

const NOW = Date.parse('2026-12-03T12:00:00Z');
const DAY = 86_400_000;
const identity = { namespace: 'shop', secret: 'shop-tls', hosts: ['shop.test'], ingress: 'shop/shop' };
const valid = {
  valid: true,
  reason: 'Valid',
  message: 'valid until …',
  notAfter: NOW + 60 * DAY,
  renewAt: NOW + 30 * DAY,
};
const due = { valid: false, reason: 'RenewalDue', message: 'renewal was due', notAfter: NOW + 20 * DAY };

describe('certificate status after a run', () => {
  const table: [
    name: string,
    previous: Partial<CertificateStatus> | undefined,
    facts: RunFacts,
    expected: Partial<CertificateStatus>,
  ][] = [
    [
      'a first run ending valid: valid, with its times',
      undefined,
      { end: 'valid', verdict: valid },
      { state: 'valid', reason: 'Valid', notAfter: valid.notAfter, renewAt: valid.renewAt, since: NOW },
    ],
    [
      "a Job launched: renewing, for the verdict's reason",
      { state: 'valid' },
      { end: 'launched', verdict: due },
      { state: 'renewing', reason: 'RenewalDue', notAfter: due.notAfter, since: NOW },
    ],
    ['a Job adopted: renewing', undefined, { end: 'adopted', verdict: due }, { state: 'renewing' }],
    [
      'a failed Job with a retry: backing off until then, for the failure',
      { state: 'renewing', reason: 'RenewalDue' },
      { end: 'failed', failure: { reason: 'SelfCheckFailed', message: 'no answer' }, retryAt: NOW + 60_000 },
      { state: 'backingOff', reason: 'SelfCheckFailed', message: 'no answer', retryAt: NOW + 60_000 },
    ],
    [
      'a failure without a retry time: failed',
      undefined,
      { end: 'failed', failure: { reason: 'IssuanceError', message: 'x' } },
      { state: 'failed', reason: 'IssuanceError' },
    ],
    [
      'a retry not due yet: backing off until it',
      undefined,
      { end: 'backing off', verdict: due, retryAt: NOW + 120_000 },
      { state: 'backingOff', retryAt: NOW + 120_000 },
    ],
    [
      'issued: valid, the reason and retry cleared',
      { state: 'backingOff', reason: 'SelfCheckFailed', message: 'x', retryAt: NOW },
      { end: 'issued' },
      { state: 'valid', reason: undefined, message: undefined, retryAt: undefined },
    ],
    [
      "another controller's Secret: foreign",
      undefined,
      { end: 'foreign', verdict: { valid: false, reason: 'ForeignSecret', message: 'managed by Helm' } },
      { state: 'foreign', reason: 'ForeignSecret' },
    ],
    [
      'a collapsed run changes nothing',
      { state: 'renewing', reason: 'RenewalDue', since: NOW - DAY },
      { end: 'collapsed' },
      { state: 'renewing', reason: 'RenewalDue', since: NOW - DAY },
    ],
    [
      'the same state again keeps its since',
      { state: 'valid', since: NOW - DAY },
      { end: 'valid', verdict: valid },
      { state: 'valid', since: NOW - DAY },
    ],
  ];
  for (const [name, previous, facts, expected] of table) {
    it(name, () => {
      const before =
        previous === undefined
          ? undefined
          : ({
              certificate: 'shop/shop-tls',
              ...identity,
              since: NOW - DAY,
              state: 'pending',
              ...previous,
            } as CertificateStatus);
      const status = nextStatus(before, identity, facts, NOW);
      assert.equal(status.certificate, 'shop/shop-tls');
      assert.deepEqual(status.hosts, ['shop.test']);
      for (const [field, value] of Object.entries(expected)) {
        assert.deepEqual(status[field as keyof CertificateStatus], value, field);
      }
    });
  }
});

describe('certificate state in words', () => {
  const base: CertificateStatus = { certificate: 'shop/shop-tls', ...identity, state: 'valid', since: NOW };
  const table: [Partial<CertificateStatus>, string][] = [
    [{ state: 'valid' }, 'valid'],
    [{ state: 'renewing', reason: 'RenewalWindow' }, 'renewing (RenewalWindow)'],
    [
      { state: 'backingOff', reason: 'SelfCheckFailed', retryAt: NOW },
      'backing off until 2026-12-03T12:00:00Z (SelfCheckFailed)',
    ],
    [{ state: 'failed', reason: 'IssuanceError' }, 'failed: IssuanceError'],
    [{ state: 'foreign' }, "not kube-lego's (ForeignSecret)"],
  ];
  for (const [status, words] of table) {
    it(words, () => assert.equal(describeState({ ...base, ...status }), words));
  }
});
