/** The policy chain over real certificates: which reason wins, with which message, in which order. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import forge from 'node-forge';
import { inspectCertificate, type PolicyInput, type PolicyVerdict } from '../../src/certificate/policy.ts';
import { otherKeys, testCertificate, testKeys } from '../support/certificates.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MIN_VALIDITY = 720 * HOUR;
/** A whole second: certificates carry seconds, so times compare exactly. */
const NOW = Date.parse('2025-06-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** A 90-day certificate for shop.test, issued `ageDays` before NOW. */
function issued(ageDays: number, hosts = ['shop.test'], keys = testKeys()) {
  const notBefore = NOW - ageDays * DAY;
  return {
    ...testCertificate({
      hosts,
      notBefore: new Date(notBefore),
      notAfter: new Date(notBefore + 90 * DAY),
      keys,
    }),
    notBefore,
    notAfter: notBefore + 90 * DAY,
  };
}

const fresh = issued(10);
const strangerKeys = otherKeys();
const strangerKey = forge.pki.privateKeyToPem(strangerKeys.privateKey);
const expired = issued(91);
const notYet = issued(-1);
const due = issued(61);
const mixedCase = issued(10, ['Shop.Test', 'www.shop.test.']);
const twoHosts = issued(10, ['shop.test', 'www.shop.test']);

/** sha256 of the DER, computed apart from the policy. */
function fingerprintOf(crt: string): string {
  return new X509Certificate(crt).fingerprint256.replaceAll(':', '').toLowerCase();
}

function input(overrides: Partial<PolicyInput>): PolicyInput {
  return {
    secret: { 'tls.crt': fresh.crt, 'tls.key': fresh.key },
    hosts: ['shop.test'],
    now: NOW,
    minimumValidityMs: MIN_VALIDITY,
    ...overrides,
  };
}

type Expected = Pick<PolicyVerdict, 'valid' | 'reason'> & { message: string | RegExp };

describe('inspectCertificate', () => {
  const table: [name: string, input: PolicyInput, expected: Expected][] = [
    [
      'no Secret: SecretMissing',
      input({ secret: undefined }),
      { valid: false, reason: 'SecretMissing', message: 'the Secret does not exist' },
    ],
    [
      'no tls.crt and no tls.key: DataMissing naming both',
      input({ secret: {} }),
      { valid: false, reason: 'DataMissing', message: 'the Secret has no tls.crt and no tls.key' },
    ],
    [
      'no tls.crt: DataMissing',
      input({ secret: { 'tls.key': fresh.key } }),
      { valid: false, reason: 'DataMissing', message: 'the Secret has no tls.crt' },
    ],
    [
      'no tls.key: DataMissing',
      input({ secret: { 'tls.crt': fresh.crt } }),
      { valid: false, reason: 'DataMissing', message: 'the Secret has no tls.key' },
    ],
    [
      'blank tls.crt counts as missing',
      input({ secret: { 'tls.crt': ' \n', 'tls.key': fresh.key } }),
      { valid: false, reason: 'DataMissing', message: 'the Secret has no tls.crt' },
    ],
    [
      'garbage tls.crt: Unparseable',
      input({ secret: { 'tls.crt': 'not a certificate', 'tls.key': fresh.key } }),
      { valid: false, reason: 'Unparseable', message: /^tls\.crt does not hold a PEM certificate \(.+\)$/ },
    ],
    [
      'garbage tls.key: Unparseable',
      input({ secret: { 'tls.crt': fresh.crt, 'tls.key': 'not a key' } }),
      { valid: false, reason: 'Unparseable', message: 'tls.key does not hold a PEM private key' },
    ],
    [
      'a certificate in tls.key: Unparseable',
      input({ secret: { 'tls.crt': fresh.crt, 'tls.key': fresh.crt } }),
      { valid: false, reason: 'Unparseable', message: 'tls.key does not hold a PEM private key' },
    ],
    [
      'another key: KeyMismatch',
      input({ secret: { 'tls.crt': fresh.crt, 'tls.key': strangerKey } }),
      {
        valid: false,
        reason: 'KeyMismatch',
        message: 'tls.key is not the private key of the certificate in tls.crt',
      },
    ],
    [
      'a host the certificate lacks: HostMissing naming it',
      input({ hosts: ['shop.test', 'www.shop.test'] }),
      { valid: false, reason: 'HostMissing', message: 'the certificate does not cover www.shop.test' },
    ],
    [
      'several hosts lacking: HostMissing naming each',
      input({ hosts: ['a.shop.test', 'shop.test', 'b.shop.test'] }),
      {
        valid: false,
        reason: 'HostMissing',
        message: 'the certificate does not cover a.shop.test, b.shop.test',
      },
    ],
    [
      'hosts compared without case and trailing dot: Valid',
      input({
        secret: { 'tls.crt': mixedCase.crt, 'tls.key': mixedCase.key },
        hosts: ['SHOP.test.', 'WWW.Shop.Test'],
      }),
      { valid: true, reason: 'Valid', message: /^valid until / },
    ],
    [
      'fewer hosts than the certificate: Valid',
      input({ secret: { 'tls.crt': twoHosts.crt, 'tls.key': twoHosts.key }, hosts: ['www.shop.test'] }),
      { valid: true, reason: 'Valid', message: /^valid until / },
    ],
    [
      'not yet valid: NotYetValid',
      input({ secret: { 'tls.crt': notYet.crt, 'tls.key': notYet.key } }),
      {
        valid: false,
        reason: 'NotYetValid',
        message: `the certificate is not valid before ${iso(NOW + DAY)}`,
      },
    ],
    [
      'expired: Expired',
      input({ secret: { 'tls.crt': expired.crt, 'tls.key': expired.key } }),
      { valid: false, reason: 'Expired', message: `the certificate expired at ${iso(NOW - DAY)}` },
    ],
    [
      'at the very instant of notAfter: Expired',
      input({ now: fresh.notAfter }),
      { valid: false, reason: 'Expired', message: `the certificate expired at ${iso(fresh.notAfter)}` },
    ],
    [
      'inside the renewal window: RenewalDue',
      input({ secret: { 'tls.crt': due.crt, 'tls.key': due.key } }),
      {
        valid: false,
        reason: 'RenewalDue',
        message: `renewal was due at ${iso(due.notAfter - 30 * DAY)}; it expires at ${iso(due.notAfter)}`,
      },
    ],
    [
      'at the very instant the window opens: RenewalDue',
      input({ now: fresh.notAfter - 30 * DAY }),
      {
        valid: false,
        reason: 'RenewalDue',
        message: `renewal was due at ${iso(fresh.notAfter - 30 * DAY)}; it expires at ${iso(fresh.notAfter)}`,
      },
    ],
    [
      'one second before the window opens: Valid',
      input({ now: fresh.notAfter - 30 * DAY - 1000 }),
      { valid: true, reason: 'Valid', message: /^valid until / },
    ],
    [
      'a smaller minimum validity moves the window later: Valid',
      input({ secret: { 'tls.crt': due.crt, 'tls.key': due.key }, minimumValidityMs: 7 * DAY }),
      { valid: true, reason: 'Valid', message: /^valid until / },
    ],
    [
      "the CA's renewal window opens before the computed one: RenewalDue naming the CA's window",
      input({ ariWindowStart: NOW - HOUR }),
      {
        valid: false,
        reason: 'RenewalDue',
        message:
          `renewal was due at ${iso(NOW - HOUR)} (the CA's renewal window); ` +
          `it expires at ${iso(fresh.notAfter)}`,
      },
    ],
    [
      "the CA's renewal window, when known, rules over the computed one",
      input({ secret: { 'tls.crt': due.crt, 'tls.key': due.key }, ariWindowStart: NOW + HOUR }),
      { valid: true, reason: 'Valid', message: /^valid until / },
    ],
    // The order of the checks: the first failing one decides.
    [
      'garbage tls.crt and no tls.key: DataMissing before Unparseable',
      input({ secret: { 'tls.crt': 'not a certificate' } }),
      { valid: false, reason: 'DataMissing', message: 'the Secret has no tls.key' },
    ],
    [
      'garbage tls.crt and tls.key: the certificate is reported',
      input({ secret: { 'tls.crt': 'not a certificate', 'tls.key': 'not a key' } }),
      { valid: false, reason: 'Unparseable', message: /^tls\.crt does not hold/ },
    ],
    [
      'expired with another key: KeyMismatch first',
      input({ secret: { 'tls.crt': expired.crt, 'tls.key': strangerKey } }),
      {
        valid: false,
        reason: 'KeyMismatch',
        message: 'tls.key is not the private key of the certificate in tls.crt',
      },
    ],
    [
      'another key and a host lacking: KeyMismatch first',
      input({ secret: { 'tls.crt': fresh.crt, 'tls.key': strangerKey }, hosts: ['other.test'] }),
      {
        valid: false,
        reason: 'KeyMismatch',
        message: 'tls.key is not the private key of the certificate in tls.crt',
      },
    ],
    [
      'expired and a host lacking: HostMissing first',
      input({ secret: { 'tls.crt': expired.crt, 'tls.key': expired.key }, hosts: ['other.test'] }),
      { valid: false, reason: 'HostMissing', message: 'the certificate does not cover other.test' },
    ],
    [
      'not yet valid and a host lacking: HostMissing first',
      input({ secret: { 'tls.crt': notYet.crt, 'tls.key': notYet.key }, hosts: ['other.test'] }),
      { valid: false, reason: 'HostMissing', message: 'the certificate does not cover other.test' },
    ],
    [
      "expired inside the CA's window: Expired before RenewalDue",
      input({ secret: { 'tls.crt': expired.crt, 'tls.key': expired.key }, ariWindowStart: NOW - 10 * DAY }),
      { valid: false, reason: 'Expired', message: `the certificate expired at ${iso(NOW - DAY)}` },
    ],
  ];
  for (const [name, policyInput, expected] of table) {
    it(name, () => {
      const verdict = inspectCertificate(policyInput);
      assert.equal(verdict.reason, expected.reason, verdict.message);
      assert.equal(verdict.valid, expected.valid);
      if (typeof expected.message === 'string') assert.equal(verdict.message, expected.message);
      else assert.match(verdict.message, expected.message);
    });
  }

  it('gives a valid certificate its renewal time, expiry and fingerprint', () => {
    const verdict = inspectCertificate(input({}));
    const renewAt = fresh.notAfter - 30 * DAY;
    assert.deepEqual(verdict, {
      valid: true,
      reason: 'Valid',
      message: `valid until ${iso(fresh.notAfter)}, renewal from ${iso(renewAt)}`,
      fingerprint: fingerprintOf(fresh.crt),
      notAfter: fresh.notAfter,
      renewAt,
    });
    assert.match(verdict.fingerprint!, /^[0-9a-f]{64}$/);
  });

  it('gives a failing certificate that parses its fingerprint and expiry, not a renewal time', () => {
    const verdict = inspectCertificate(input({ secret: { 'tls.crt': expired.crt, 'tls.key': expired.key } }));
    assert.equal(verdict.fingerprint, fingerprintOf(expired.crt));
    assert.equal(verdict.notAfter, expired.notAfter);
    assert.equal(verdict.renewAt, undefined);
  });

  it('gives no fingerprint when nothing parses', () => {
    for (const secret of [undefined, {}, { 'tls.crt': 'x', 'tls.key': fresh.key }]) {
      const verdict = inspectCertificate(input({ secret }));
      assert.equal(verdict.fingerprint, undefined);
      assert.equal(verdict.notAfter, undefined);
    }
  });

  it('tells certificates apart by fingerprint', () => {
    const a = inspectCertificate(input({}));
    const b = inspectCertificate(input({ secret: { 'tls.crt': twoHosts.crt, 'tls.key': twoHosts.key } }));
    assert.notEqual(a.fingerprint, b.fingerprint);
  });
});
