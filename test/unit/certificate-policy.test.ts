/** The policy chain over real certificates: which reason wins, with which message, in which order. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import forge from 'node-forge';
import { ariCertificateId } from '../../src/acme/certificate-id.ts';
import {
  inspectCertificate,
  type IssuanceSettings,
  type PolicyInput,
  type PolicyVerdict,
} from '../../src/certificate/policy.ts';
import type { OwnerReference, TlsSecret } from '../../src/certificate/secret.ts';
import { otherKeys, rsaKeys, testCertificate, testKeys } from '../support/certificates.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MIN_VALIDITY = 720 * HOUR;
/** A whole second: certificates carry seconds, so times compare exactly. */
const NOW = Date.parse('2025-06-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const DIRECTORY = 'https://ca.test/directory';
const SETTINGS: IssuanceSettings = {
  directoryUrl: DIRECTORY,
  profile: undefined,
  keyType: 'rsa',
  rsaKeySize: 2048,
};

/** The Authority Key Identifier of the test certificates, as a CA would put in them. */
const ISSUER_KEY_ID = '69885b6b87464041e1b37b847ba0ae2cde01c8d4';

/** A 90-day certificate for shop.test, issued `ageDays` before NOW. */
function issued(
  ageDays: number,
  hosts = ['shop.test'],
  keys = testKeys(),
  key: { keyType?: 'ecdsa'; curve?: string; authorityKeyIdHex?: string } = {},
) {
  const notBefore = NOW - ageDays * DAY;
  return {
    ...testCertificate({
      hosts,
      notBefore: new Date(notBefore),
      notAfter: new Date(notBefore + 90 * DAY),
      keys,
      authorityKeyIdHex: ISSUER_KEY_ID,
      ...key,
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
/** 10 days left: inside half the lifetime rule's 30-day margin. */
const late = issued(80);
const mixedCase = issued(10, ['Shop.Test', 'www.shop.test.']);
const twoHosts = issued(10, ['shop.test', 'www.shop.test']);
const rsa3072 = issued(10, ['shop.test'], rsaKeys(3072));
const ecdsa = issued(10, ['shop.test'], testKeys(), { keyType: 'ecdsa' });
const ecdsaP384 = issued(10, ['shop.test'], testKeys(), { keyType: 'ecdsa', curve: 'P-384' });

/** The owner reference kube-lego writes: the requesting Ingress shop. */
const SHOP_INGRESS: OwnerReference = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'shop' };

/** The Secret kube-lego writes for `pair` (ordered from DIRECTORY, default profile), with `metadata` over it. */
function secret(
  pair: { crt?: string; key?: string },
  metadata: Partial<Omit<TlsSecret, 'data'>> = {},
): TlsSecret {
  return {
    data: {
      ...(pair.crt !== undefined && { 'tls.crt': pair.crt }),
      ...(pair.key !== undefined && { 'tls.key': pair.key }),
    },
    annotations: { 'kube-lego.io/issuer-url': DIRECTORY },
    labels: { 'app.kubernetes.io/managed-by': 'kube-lego' },
    ownerReferences: [SHOP_INGRESS],
    ...metadata,
  };
}

/** A Secret of `fresh` whose annotations are kube-lego's plus `annotations`. */
function annotated(
  annotations: Record<string, string>,
  pair: { crt?: string; key?: string } = fresh,
): TlsSecret {
  return secret(pair, { annotations: { 'kube-lego.io/issuer-url': DIRECTORY, ...annotations } });
}

/** A Secret of `pair` with only the data: written by hand, or by jetstack's kube-lego. */
const bare = (pair: { crt?: string; key?: string }) =>
  secret(pair, { annotations: {}, labels: {}, ownerReferences: [] });

function input(overrides: Partial<PolicyInput>): PolicyInput {
  return {
    secret: secret(fresh),
    ingressName: 'shop',
    hosts: ['shop.test'],
    settings: SETTINGS,
    now: NOW,
    minimumValidityMs: MIN_VALIDITY,
    ...overrides,
  };
}

const settings = (overrides: Partial<IssuanceSettings>) => ({ ...SETTINGS, ...overrides });

/** sha256 of the DER, computed apart from the policy. */
function fingerprintOf(crt: string): string {
  return new X509Certificate(crt).fingerprint256.replaceAll(':', '').toLowerCase();
}

type Expected = Pick<PolicyVerdict, 'reason'> & { message: string | RegExp };

const VALID = { reason: 'Valid', message: /^valid until / } as const;

describe('inspectCertificate', () => {
  const table: [name: string, input: PolicyInput, expected: Expected][] = [
    [
      'no Secret: SecretMissing',
      input({ secret: undefined }),
      { reason: 'SecretMissing', message: 'the Secret does not exist' },
    ],
    // Another controller's Secret.
    [
      'owned by a ConfigMap: ForeignSecret naming the owner',
      input({
        secret: secret(fresh, { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'keeper' }] }),
      }),
      { reason: 'ForeignSecret', message: 'the Secret is owned by ConfigMap keeper' },
    ],
    [
      'owned by the requesting Ingress and a ConfigMap: ForeignSecret',
      input({
        secret: secret(fresh, {
          ownerReferences: [SHOP_INGRESS, { apiVersion: 'v1', kind: 'ConfigMap', name: 'keeper' }],
        }),
      }),
      { reason: 'ForeignSecret', message: 'the Secret is owned by ConfigMap keeper' },
    ],
    [
      'owned by another Ingress: ForeignSecret naming it',
      input({ secret: secret(fresh, { ownerReferences: [{ ...SHOP_INGRESS, name: 'blog' }] }) }),
      { reason: 'ForeignSecret', message: 'the Secret is owned by Ingress blog' },
    ],
    [
      'owned by an Ingress kind of another API group: ForeignSecret',
      input({
        secret: secret(fresh, { ownerReferences: [{ ...SHOP_INGRESS, apiVersion: 'example.test/v1' }] }),
      }),
      { reason: 'ForeignSecret', message: 'the Secret is owned by Ingress shop' },
    ],
    [
      'owned by the requesting Ingress under its old API version: Valid',
      input({
        secret: secret(fresh, { ownerReferences: [{ ...SHOP_INGRESS, apiVersion: 'extensions/v1beta1' }] }),
      }),
      VALID,
    ],
    [
      'labelled managed by Helm: ForeignSecret naming the label',
      input({ secret: secret(fresh, { labels: { 'app.kubernetes.io/managed-by': 'Helm' } }) }),
      {
        reason: 'ForeignSecret',
        message: 'the Secret is managed by Helm (label app.kubernetes.io/managed-by=Helm)',
      },
    ],
    [
      "cert-manager's certificate-name annotation: ForeignSecret",
      input({ secret: annotated({ 'cert-manager.io/certificate-name': 'shop' }) }),
      {
        reason: 'ForeignSecret',
        message: 'the Secret is managed by cert-manager (annotation cert-manager.io/certificate-name)',
      },
    ],
    [
      'any other cert-manager.io/ annotation: ForeignSecret',
      input({ secret: annotated({ 'cert-manager.io/issuer-name': 'letsencrypt' }) }),
      {
        reason: 'ForeignSecret',
        message: 'the Secret is managed by cert-manager (annotation cert-manager.io/issuer-name)',
      },
    ],
    [
      'an annotation of a cert-manager.io subdomain: ForeignSecret',
      input({ secret: annotated({ 'acme.cert-manager.io/http01-solver': 'true' }) }),
      {
        reason: 'ForeignSecret',
        message: 'the Secret is managed by cert-manager (annotation acme.cert-manager.io/http01-solver)',
      },
    ],
    [
      'annotations of other domains that mention cert-manager.io: not foreign',
      input({ secret: annotated({ 'example.test/cert-manager.io': 'x', 'notcert-manager.io/y': 'z' }) }),
      VALID,
    ],
    // What kube-lego recorded when it wrote the Secret, against the settings.
    [
      'no issuer annotation (hand-written, or jetstack kube-lego): IssuerUnknown',
      input({ secret: bare(fresh) }),
      {
        reason: 'IssuerUnknown',
        message:
          "the Secret does not record the ACME directory that issued it (no kube-lego.io/issuer-url annotation: written by hand or by jetstack's kube-lego)",
      },
    ],
    [
      'an empty issuer annotation: IssuerUnknown',
      input({ secret: secret(fresh, { annotations: { 'kube-lego.io/issuer-url': '' } }) }),
      { reason: 'IssuerUnknown', message: /^the Secret does not record the ACME directory/ },
    ],
    [
      'issued through another directory than LEGO_URL: IssuerChanged naming both',
      input({ settings: settings({ directoryUrl: 'https://acme-v02.api.letsencrypt.org/directory' }) }),
      {
        reason: 'IssuerChanged',
        message: `the certificate was issued through ${DIRECTORY}, LEGO_URL is https://acme-v02.api.letsencrypt.org/directory`,
      },
    ],
    [
      'ordered with the default profile, LEGO_ACME_PROFILE set: ProfileChanged',
      input({ settings: settings({ profile: 'tlsserver' }) }),
      {
        reason: 'ProfileChanged',
        message: `the certificate was ordered with the CA's default profile, LEGO_ACME_PROFILE asks for profile "tlsserver"`,
      },
    ],
    [
      'ordered with a profile, LEGO_ACME_PROFILE unset: ProfileChanged',
      input({ secret: annotated({ 'kube-lego.io/acme-profile': 'shortlived' }) }),
      {
        reason: 'ProfileChanged',
        message: `the certificate was ordered with profile "shortlived", LEGO_ACME_PROFILE asks for the CA's default profile`,
      },
    ],
    [
      'ordered with another profile: ProfileChanged',
      input({
        secret: annotated({ 'kube-lego.io/acme-profile': 'shortlived' }),
        settings: settings({ profile: 'tlsserver' }),
      }),
      {
        reason: 'ProfileChanged',
        message: /profile "shortlived", LEGO_ACME_PROFILE asks for profile "tlsserver"$/,
      },
    ],
    [
      'ordered with the profile LEGO_ACME_PROFILE asks for: Valid',
      input({
        secret: annotated({ 'kube-lego.io/acme-profile': 'tlsserver' }),
        settings: settings({ profile: 'tlsserver' }),
      }),
      VALID,
    ],
    // The data.
    [
      'no tls.crt and no tls.key: DataMissing naming both',
      input({ secret: secret({}) }),
      { reason: 'DataMissing', message: 'the Secret has no tls.crt and no tls.key' },
    ],
    [
      'no tls.crt: DataMissing',
      input({ secret: secret({ key: fresh.key }) }),
      { reason: 'DataMissing', message: 'the Secret has no tls.crt' },
    ],
    [
      'no tls.key: DataMissing',
      input({ secret: secret({ crt: fresh.crt }) }),
      { reason: 'DataMissing', message: 'the Secret has no tls.key' },
    ],
    [
      'blank tls.crt counts as missing',
      input({ secret: secret({ crt: ' \n', key: fresh.key }) }),
      { reason: 'DataMissing', message: 'the Secret has no tls.crt' },
    ],
    [
      'garbage tls.crt: Unparseable',
      input({ secret: secret({ crt: 'not a certificate', key: fresh.key }) }),
      { reason: 'Unparseable', message: /^tls\.crt does not hold a PEM certificate \(.+\)$/ },
    ],
    [
      'garbage tls.key: Unparseable',
      input({ secret: secret({ crt: fresh.crt, key: 'not a key' }) }),
      { reason: 'Unparseable', message: 'tls.key does not hold a PEM private key' },
    ],
    [
      'a certificate in tls.key: Unparseable',
      input({ secret: secret({ crt: fresh.crt, key: fresh.crt }) }),
      { reason: 'Unparseable', message: 'tls.key does not hold a PEM private key' },
    ],
    [
      'another key: KeyMismatch',
      input({ secret: secret({ crt: fresh.crt, key: strangerKey }) }),
      { reason: 'KeyMismatch', message: 'tls.key is not the private key of the certificate in tls.crt' },
    ],
    // The key against LEGO_KEY_TYPE and LEGO_RSA_KEYSIZE.
    [
      'an RSA key, LEGO_KEY_TYPE=ecdsa: KeyTypeChanged',
      input({ settings: settings({ keyType: 'ecdsa' }) }),
      {
        reason: 'KeyTypeChanged',
        message: "the certificate's key is RSA 2048, LEGO_KEY_TYPE and LEGO_RSA_KEYSIZE ask for ECDSA P-256",
      },
    ],
    [
      'an RSA key of another size than LEGO_RSA_KEYSIZE: KeyTypeChanged',
      input({ secret: secret(rsa3072) }),
      {
        reason: 'KeyTypeChanged',
        message: "the certificate's key is RSA 3072, LEGO_KEY_TYPE and LEGO_RSA_KEYSIZE ask for RSA 2048",
      },
    ],
    [
      'an RSA key of LEGO_RSA_KEYSIZE: Valid',
      input({ secret: secret(rsa3072), settings: settings({ rsaKeySize: 3072 }) }),
      VALID,
    ],
    [
      'an ECDSA key, LEGO_KEY_TYPE=rsa: KeyTypeChanged',
      input({ secret: secret(ecdsa) }),
      {
        reason: 'KeyTypeChanged',
        message: "the certificate's key is ECDSA P-256, LEGO_KEY_TYPE and LEGO_RSA_KEYSIZE ask for RSA 2048",
      },
    ],
    [
      'an ECDSA key on another curve than P-256: KeyTypeChanged',
      input({ secret: secret(ecdsaP384), settings: settings({ keyType: 'ecdsa' }) }),
      {
        reason: 'KeyTypeChanged',
        message:
          "the certificate's key is ECDSA secp384r1, LEGO_KEY_TYPE and LEGO_RSA_KEYSIZE ask for ECDSA P-256",
      },
    ],
    [
      'an ECDSA P-256 key, LEGO_KEY_TYPE=ecdsa: Valid',
      input({ secret: secret(ecdsa), settings: settings({ keyType: 'ecdsa' }) }),
      VALID,
    ],
    // The hosts.
    [
      'a host the certificate lacks: HostMissing naming it',
      input({ hosts: ['shop.test', 'www.shop.test'] }),
      { reason: 'HostMissing', message: 'the certificate does not cover www.shop.test' },
    ],
    [
      'several hosts lacking: HostMissing naming each',
      input({ hosts: ['a.shop.test', 'shop.test', 'b.shop.test'] }),
      { reason: 'HostMissing', message: 'the certificate does not cover a.shop.test, b.shop.test' },
    ],
    [
      'hosts compared without case and trailing dot: Valid',
      input({ secret: secret(mixedCase), hosts: ['SHOP.test.', 'WWW.Shop.Test'] }),
      VALID,
    ],
    [
      'a host the entry no longer has: HostsRemoved naming it',
      input({ secret: secret(twoHosts), hosts: ['www.shop.test'] }),
      { reason: 'HostsRemoved', message: 'the certificate names shop.test, which the entry no longer has' },
    ],
    [
      'hosts removed compared without case and trailing dot',
      input({ secret: secret(mixedCase), hosts: ['shop.test'] }),
      {
        reason: 'HostsRemoved',
        message: 'the certificate names www.shop.test, which the entry no longer has',
      },
    ],
    // Time.
    [
      'not valid yet (a clock behind the CA): Valid, not reissued on every check',
      input({ secret: secret(notYet) }),
      VALID,
    ],
    [
      'expired: Expired',
      input({ secret: secret(expired) }),
      { reason: 'Expired', message: `the certificate expired at ${iso(NOW - DAY)}` },
    ],
    [
      'at the very instant of notAfter: Expired',
      input({ now: fresh.notAfter }),
      { reason: 'Expired', message: `the certificate expired at ${iso(fresh.notAfter)}` },
    ],
    [
      'inside the renewal window: RenewalDue',
      input({ secret: secret(due) }),
      {
        reason: 'RenewalDue',
        message: `renewal was due at ${iso(due.notAfter - 30 * DAY)}; it expires at ${iso(due.notAfter)}`,
      },
    ],
    [
      'at the very instant the window opens: RenewalDue',
      input({ now: fresh.notAfter - 30 * DAY }),
      {
        reason: 'RenewalDue',
        message: `renewal was due at ${iso(fresh.notAfter - 30 * DAY)}; it expires at ${iso(fresh.notAfter)}`,
      },
    ],
    ['one second before the window opens: Valid', input({ now: fresh.notAfter - 30 * DAY - 1000 }), VALID],
    [
      'a smaller minimum validity moves the window later: Valid',
      input({ secret: secret(due), minimumValidityMs: 7 * DAY }),
      VALID,
    ],
    [
      "the CA's renewal window opens before the computed one: RenewalWindow",
      input({ caRenewalTime: () => NOW - HOUR }),
      {
        reason: 'RenewalWindow',
        message: `the CA's renewal window says renew from ${iso(NOW - HOUR)}; it expires at ${iso(fresh.notAfter)}`,
      },
    ],
    [
      "a CA's window past half the lifetime rule's margin is followed to that point only: RenewalWindow",
      input({ secret: secret(late), caRenewalTime: () => late.notAfter - HOUR }),
      {
        reason: 'RenewalWindow',
        message: `the CA's renewal window says renew from ${iso(late.notAfter - 15 * DAY)}; it expires at ${iso(late.notAfter)}`,
      },
    ],
    [
      "the CA's renewal window, when known, rules over the computed one",
      input({ secret: secret(due), caRenewalTime: () => NOW + HOUR }),
      VALID,
    ],
    // The order of the checks: the first failing one decides.
    [
      "another controller's Secret without data: ForeignSecret before DataMissing",
      input({ secret: secret({}, { labels: { 'app.kubernetes.io/managed-by': 'Helm' } }) }),
      { reason: 'ForeignSecret', message: /managed by Helm/ },
    ],
    [
      "cert-manager's expired certificate without kube-lego's annotation: ForeignSecret before IssuerUnknown",
      input({
        secret: secret(expired, {
          annotations: { 'cert-manager.io/certificate-name': 'shop' },
          labels: {},
          ownerReferences: [],
        }),
      }),
      { reason: 'ForeignSecret', message: /managed by cert-manager/ },
    ],
    [
      'an owner before the label: the owner is named',
      input({
        secret: secret(fresh, {
          labels: { 'app.kubernetes.io/managed-by': 'Helm' },
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'keeper' }],
        }),
      }),
      { reason: 'ForeignSecret', message: 'the Secret is owned by ConfigMap keeper' },
    ],
    [
      'no data and no issuer annotation: DataMissing before IssuerUnknown',
      input({ secret: bare({ key: fresh.key }) }),
      { reason: 'DataMissing', message: 'the Secret has no tls.crt' },
    ],
    [
      'no issuer annotation and garbage tls.crt: IssuerUnknown before Unparseable',
      input({ secret: bare({ crt: 'not a certificate', key: fresh.key }) }),
      { reason: 'IssuerUnknown', message: /^the Secret does not record/ },
    ],
    [
      'another directory and another profile: IssuerChanged before ProfileChanged',
      input({ settings: settings({ directoryUrl: 'https://other.test/directory', profile: 'tlsserver' }) }),
      { reason: 'IssuerChanged', message: /LEGO_URL is https:\/\/other\.test\/directory$/ },
    ],
    [
      'another profile and garbage tls.crt: ProfileChanged before Unparseable',
      input({
        secret: secret({ crt: 'not a certificate', key: fresh.key }),
        settings: settings({ profile: 'tlsserver' }),
      }),
      { reason: 'ProfileChanged', message: /LEGO_ACME_PROFILE asks for profile "tlsserver"$/ },
    ],
    [
      'garbage tls.crt and no tls.key: DataMissing before Unparseable',
      input({ secret: secret({ crt: 'not a certificate' }) }),
      { reason: 'DataMissing', message: 'the Secret has no tls.key' },
    ],
    [
      'garbage tls.crt and tls.key: the certificate is reported',
      input({ secret: secret({ crt: 'not a certificate', key: 'not a key' }) }),
      { reason: 'Unparseable', message: /^tls\.crt does not hold/ },
    ],
    [
      'expired with another key: KeyMismatch first',
      input({ secret: secret({ crt: expired.crt, key: strangerKey }) }),
      { reason: 'KeyMismatch', message: 'tls.key is not the private key of the certificate in tls.crt' },
    ],
    [
      'another key and another key type: KeyMismatch before KeyTypeChanged',
      input({
        secret: secret({ crt: fresh.crt, key: strangerKey }),
        settings: settings({ keyType: 'ecdsa' }),
      }),
      { reason: 'KeyMismatch', message: 'tls.key is not the private key of the certificate in tls.crt' },
    ],
    [
      'another key type and a host lacking: KeyTypeChanged before HostMissing',
      input({ settings: settings({ keyType: 'ecdsa' }), hosts: ['other.test'] }),
      { reason: 'KeyTypeChanged', message: /ask for ECDSA P-256$/ },
    ],
    [
      'another key and a host lacking: KeyMismatch first',
      input({ secret: secret({ crt: fresh.crt, key: strangerKey }), hosts: ['other.test'] }),
      { reason: 'KeyMismatch', message: 'tls.key is not the private key of the certificate in tls.crt' },
    ],
    [
      'a host lacking and a host removed: HostMissing before HostsRemoved',
      input({ hosts: ['other.test'] }),
      { reason: 'HostMissing', message: 'the certificate does not cover other.test' },
    ],
    [
      'expired and a host removed: HostsRemoved before Expired',
      input({ secret: secret(issued(91, ['shop.test', 'www.shop.test'])), hosts: ['shop.test'] }),
      {
        reason: 'HostsRemoved',
        message: 'the certificate names www.shop.test, which the entry no longer has',
      },
    ],
    [
      'expired and a host lacking: HostMissing first',
      input({ secret: secret(expired), hosts: ['other.test'] }),
      { reason: 'HostMissing', message: 'the certificate does not cover other.test' },
    ],
    [
      'not yet valid and a host lacking: HostMissing',
      input({ secret: secret(notYet), hosts: ['other.test'] }),
      { reason: 'HostMissing', message: 'the certificate does not cover other.test' },
    ],
    [
      "expired inside the CA's window: Expired before RenewalWindow",
      input({ secret: secret(expired), caRenewalTime: () => NOW - 10 * DAY }),
      { reason: 'Expired', message: `the certificate expired at ${iso(NOW - DAY)}` },
    ],
  ];
  for (const [name, policyInput, expected] of table) {
    it(name, () => {
      const verdict = inspectCertificate(policyInput);
      assert.equal(verdict.reason, expected.reason, verdict.message);
      assert.equal(verdict.valid, expected.reason === 'Valid');
      assert.equal(verdict.foreign, expected.reason === 'ForeignSecret');
      if (typeof expected.message === 'string') assert.equal(verdict.message, expected.message);
      else assert.match(verdict.message, expected.message);
    });
  }

  it('gives a valid certificate its validity, renewal time and fingerprint', () => {
    const verdict = inspectCertificate(input({}));
    const renewAt = fresh.notAfter - 30 * DAY;
    assert.deepEqual(verdict, {
      valid: true,
      foreign: false,
      reason: 'Valid',
      message: `valid until ${iso(fresh.notAfter)}, renewal from ${iso(renewAt)}`,
      fingerprint: fingerprintOf(fresh.crt),
      notBefore: fresh.notBefore,
      notAfter: fresh.notAfter,
      renewAt,
      certificateId: ariCertificateId(new X509Certificate(fresh.crt).raw),
    });
    assert.match(verdict.fingerprint!, /^[0-9a-f]{64}$/);
  });

  it("asks for the CA's renewal time by the certificate's ARI identifier, and says the time is the CA's", () => {
    const asked: string[] = [];
    const verdict = inspectCertificate(input({ caRenewalTime: (id) => (asked.push(id), NOW + 5 * DAY) }));
    assert.deepEqual(asked, [ariCertificateId(new X509Certificate(fresh.crt).raw)]);
    assert.equal(verdict.renewAt, NOW + 5 * DAY);
    assert.match(verdict.message, /\(the CA's renewal window\)$/);
  });

  it('names the certificate to replace only when it came from LEGO_URL and names its issuer key', () => {
    const id = ariCertificateId(new X509Certificate(fresh.crt).raw);
    const profileChanged = inspectCertificate(input({ settings: settings({ profile: 'tlsserver' }) }));
    assert.equal(profileChanged.reason, 'ProfileChanged');
    assert.equal(profileChanged.certificateId, id);
    assert.equal(inspectCertificate(input({ secret: secret(due) })).reason, 'RenewalDue');
    assert.ok(inspectCertificate(input({ secret: secret(due) })).certificateId);
    const otherCa = inspectCertificate(
      input({ settings: settings({ directoryUrl: 'https://other.test/dir' }) }),
    );
    assert.equal(otherCa.reason, 'IssuerChanged');
    assert.equal(otherCa.certificateId, undefined);
    const selfSigned = issued(10, ['shop.test'], testKeys(), { authorityKeyIdHex: undefined });
    let asked = false;
    const noAki = inspectCertificate(
      input({ secret: secret(selfSigned), caRenewalTime: () => ((asked = true), NOW - DAY) }),
    );
    assert.equal(noAki.reason, 'Valid', 'no identifier: the lifetime rule, the CA not asked');
    assert.equal(noAki.certificateId, undefined);
    assert.equal(asked, false);
  });

  it('gives a valid certificate that is not valid yet its notBefore, for the task to log', () => {
    const verdict = inspectCertificate(input({ secret: secret(notYet) }));
    assert.equal(verdict.valid, true);
    assert.equal(verdict.notBefore, NOW + DAY);
  });

  it('gives a failing certificate that parses its fingerprint and validity, not a renewal time', () => {
    const verdict = inspectCertificate(input({ secret: secret(expired) }));
    assert.equal(verdict.fingerprint, fingerprintOf(expired.crt));
    assert.equal(verdict.notBefore, expired.notBefore);
    assert.equal(verdict.notAfter, expired.notAfter);
    assert.equal(verdict.renewAt, undefined);
  });

  it("gives a certificate failing on what was recorded (directory, profile) its fingerprint, so its replacement's Job is new", () => {
    for (const overrides of [
      { settings: settings({ directoryUrl: 'https://other.test/directory' }) },
      { settings: settings({ profile: 'tlsserver' }) },
      { secret: secret(fresh, { annotations: {} }) },
    ]) {
      const verdict = inspectCertificate(input(overrides));
      assert.equal(verdict.valid, false, verdict.reason);
      assert.equal(verdict.fingerprint, fingerprintOf(fresh.crt), verdict.reason);
    }
  });

  it('gives no fingerprint when nothing parses', () => {
    for (const each of [undefined, secret({}), secret({ crt: 'x', key: fresh.key })]) {
      const verdict = inspectCertificate(input({ secret: each }));
      assert.equal(verdict.fingerprint, undefined);
      assert.equal(verdict.notAfter, undefined);
    }
  });

  it('tells certificates apart by fingerprint', () => {
    const a = inspectCertificate(input({}));
    const b = inspectCertificate(input({ secret: secret(twoHosts), hosts: ['shop.test', 'www.shop.test'] }));
    assert.equal(b.valid, true);
    assert.notEqual(a.fingerprint, b.fingerprint);
  });
});
