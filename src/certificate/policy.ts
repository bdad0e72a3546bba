/**
 * Certificate policy: is the certificate in a Secret good for the hosts of a `spec.tls` entry, and is it
 * what kube-lego would issue now?
 *
 * A chain of pure checks evaluated in order; the first that fails gives the reason and a message for
 * people. The cheap checks of the Secret's metadata come before parsing, and the checks that say the
 * certificate is wrong come before those that say it is old. A Secret another controller manages stops the
 * chain before anything else, with `foreign` set: kube-lego never writes over it. Parsing uses node:crypto's
 * X509Certificate, not node-forge: it reads ECDSA keys (node-forge reads RSA only) and is what Node itself
 * verifies TLS with (docs/decisions.md).
 */
import { X509Certificate, createPrivateKey, createHash, type KeyObject } from 'node:crypto';
import { ariCertificateId } from '../acme/certificate-id.ts';
import type { Config } from '../config.ts';
import { renewalTime } from './renewal.ts';
import { followedCaRenewalTime } from './renewal-information.ts';
import { SECRET_ANNOTATIONS, foreignManager, type TlsSecret } from './secret.ts';

/** What a certificate issued now would be: the settings it is compared with. */
export interface IssuanceSettings {
  /** `LEGO_URL`: the ACME directory certificates are ordered from. */
  directoryUrl: string;
  /** `LEGO_ACME_PROFILE`; undefined for the CA's default. */
  profile: string | undefined;
  /** `LEGO_KEY_TYPE`: RSA of `rsaKeySize` bits, or ECDSA P-256. */
  keyType: 'rsa' | 'ecdsa';
  /** `LEGO_RSA_KEYSIZE`, in bits. */
  rsaKeySize: number;
}

/** The settings of `config` a certificate issued now would have. */
export function issuanceSettingsOf(config: Config): IssuanceSettings {
  return {
    directoryUrl: config.url,
    profile: config.acmeProfile,
    keyType: config.keyType,
    rsaKeySize: config.rsaKeySize,
  };
}

/** What the checks need. Times are ms since the epoch. */
export interface PolicyInput {
  /** The Secret named by the entry; undefined when there is none. */
  secret: TlsSecret | undefined;
  /** The Ingress whose entry asks for the certificate: a Secret owned by any other object is not kube-lego's. */
  ingressName: string;
  hosts: string[];
  settings: IssuanceSettings;
  now: number;
  minimumValidityMs: number;
  /**
   * When the CA's renewal window (ACME Renewal Information) says the certificate of this identifier is to
   * be renewed, if known; the lifetime rule (src/certificate/renewal.ts) otherwise.
   */
  caRenewalTime?: (certificateId: string) => number | undefined;
}

/** Why a certificate must be (re)issued; `Valid` when it must not; `ForeignSecret` when it must not be touched. */
export type PolicyReason =
  | 'Valid'
  | 'SecretMissing'
  | 'ForeignSecret'
  | 'DataMissing'
  | 'IssuerUnknown'
  | 'IssuerChanged'
  | 'ProfileChanged'
  | 'Unparseable'
  | 'KeyMismatch'
  | 'KeyTypeChanged'
  | 'HostMissing'
  | 'HostsRemoved'
  | 'Expired'
  | 'RenewalDue'
  | 'RenewalWindow';

/** The verdict of the policy chain. */
export interface PolicyVerdict {
  valid: boolean;
  /** The Secret is managed by another controller (reason `ForeignSecret`): it is neither valid nor reissued. */
  foreign: boolean;
  reason: PolicyReason;
  message: string;
  /** sha256 of the leaf certificate (DER, hex), when there is one that parses. */
  fingerprint?: string;
  /** The certificate's notBefore, when it parses: a valid certificate may not be valid yet (clock skew). */
  notBefore?: number;
  notAfter?: number;
  /** When renewal is due, for a valid certificate. */
  renewAt?: number;
  /**
   * The certificate's ACME Renewal Information identifier, when it was issued through `LEGO_URL` and names
   * its issuer's key: what the CA is asked about, and what the order that replaces it names in `replaces`.
   */
  certificateId?: string;
}

/** A failed check: why, in a word and in a sentence. */
interface Failure {
  reason: PolicyReason;
  message: string;
}

interface Parsed {
  leaf: X509Certificate;
  key: KeyObject;
  notBefore: number;
  notAfter: number;
  certificateId: string | undefined;
  /** The CA's renewal time when known, else the lifetime-scaled renewal time. */
  renewAt: number;
  /** Whether `renewAt` is the CA's. */
  renewAtFromCa: boolean;
}

type MetadataCheck = (input: PolicyInput, secret: TlsSecret) => Failure | undefined;
type CertificateCheck = (input: PolicyInput, parsed: Parsed) => Failure | undefined;

/** Lower case, no trailing dot: how hosts are compared. */
export function normalizeHost(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

/** The DNS names of a certificate's subjectAltName extension, normalized. */
export function dnsNames(certificate: X509Certificate): string[] {
  return (certificate.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => normalizeHost(entry.slice(4)));
}

/** A key for people: `RSA 2048`, `ECDSA P-256`, `ECDSA secp384r1`, `ed25519`. */
function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return `RSA ${details.modulusLength ?? '?'}`;
  if (key.asymmetricKeyType === 'ec') {
    return `ECDSA ${details.namedCurve === 'prime256v1' ? 'P-256' : (details.namedCurve ?? '?')}`;
  }
  return key.asymmetricKeyType ?? 'unknown';
}

/** The key the settings ask for, described as {@link describeKey} describes a key. */
function wantedKey({ keyType, rsaKeySize }: IssuanceSettings): string {
  return keyType === 'ecdsa' ? 'ECDSA P-256' : `RSA ${rsaKeySize}`;
}

/** A profile for people. */
const profileName = (profile: string | undefined) =>
  profile === undefined ? "the CA's default profile" : `profile "${profile}"`;

const iso = (ms: number) => new Date(ms).toISOString();

/** sha256 of a certificate (DER, hex). */
const fingerprintOf = (leaf: X509Certificate) => createHash('sha256').update(leaf.raw).digest('hex');

/** The ARI identifier of a certificate issued through the directory in force; undefined for another's. */
function certificateIdOf(leaf: X509Certificate, input: PolicyInput, secret: TlsSecret): string | undefined {
  return secret.annotations[SECRET_ANNOTATIONS.issuer] === input.settings.directoryUrl
    ? ariCertificateId(leaf.raw)
    : undefined;
}

/**
 * The fingerprint (and ARI identifier) of the leaf in `crt`, when it parses. A verdict that fails on the
 * Secret's metadata carries them too: the Job that replaces the certificate is named after it
 * (job-objects.ts), so a reissue after a `LEGO_URL` or profile change gets a Job of its own, not the
 * finished one that wrote it; and a profile change of the same CA still names the certificate it replaces.
 */
function leafIdentity(
  crt: string,
  input: PolicyInput,
  secret: TlsSecret,
): { fingerprint?: string; certificateId?: string } {
  try {
    const leaf = new X509Certificate(crt);
    const certificateId = certificateIdOf(leaf, input, secret);
    return { fingerprint: fingerprintOf(leaf), ...(certificateId !== undefined && { certificateId }) };
  } catch {
    return {};
  }
}

/** The checks of the Secret's metadata (what kube-lego recorded when it wrote it), in order. */
const metadataChecks: MetadataCheck[] = [
  (_input, { annotations }) =>
    (annotations[SECRET_ANNOTATIONS.issuer] ?? '') === ''
      ? {
          reason: 'IssuerUnknown',
          message: `the Secret does not record the ACME directory that issued it (no ${SECRET_ANNOTATIONS.issuer} annotation: written by hand or by jetstack's kube-lego)`,
        }
      : undefined,
  ({ settings }, { annotations }) => {
    const recorded = annotations[SECRET_ANNOTATIONS.issuer];
    return recorded === settings.directoryUrl
      ? undefined
      : {
          reason: 'IssuerChanged',
          message: `the certificate was issued through ${recorded}, LEGO_URL is ${settings.directoryUrl}`,
        };
  },
  ({ settings }, { annotations }) => {
    const recorded = annotations[SECRET_ANNOTATIONS.profile] || undefined;
    return recorded === settings.profile
      ? undefined
      : {
          reason: 'ProfileChanged',
          message: `the certificate was ordered with ${profileName(recorded)}, LEGO_ACME_PROFILE asks for ${profileName(settings.profile)}`,
        };
  },
];

/** The checks of the certificate after parsing, in order. */
const certificateChecks: CertificateCheck[] = [
  (_input, { leaf, key }) =>
    leaf.checkPrivateKey(key)
      ? undefined
      : { reason: 'KeyMismatch', message: 'tls.key is not the private key of the certificate in tls.crt' },
  ({ settings }, { leaf }) => {
    const found = describeKey(leaf.publicKey);
    const wanted = wantedKey(settings);
    return found === wanted
      ? undefined
      : {
          reason: 'KeyTypeChanged',
          message: `the certificate's key is ${found}, LEGO_KEY_TYPE and LEGO_RSA_KEYSIZE ask for ${wanted}`,
        };
  },
  ({ hosts }, { leaf }) => {
    const names = new Set(dnsNames(leaf));
    const missing = hosts.map(normalizeHost).filter((host) => !names.has(host));
    return missing.length === 0
      ? undefined
      : { reason: 'HostMissing', message: `the certificate does not cover ${missing.join(', ')}` };
  },
  ({ hosts }, { leaf }) => {
    const wanted = new Set(hosts.map(normalizeHost));
    const removed = [...new Set(dnsNames(leaf))].filter((name) => !wanted.has(name));
    return removed.length === 0
      ? undefined
      : {
          reason: 'HostsRemoved',
          message: `the certificate names ${removed.join(', ')}, which the entry no longer has`,
        };
  },
  ({ now }, { notAfter }) =>
    now >= notAfter
      ? { reason: 'Expired', message: `the certificate expired at ${iso(notAfter)}` }
      : undefined,
  ({ now }, { notAfter, renewAt, renewAtFromCa }) =>
    now < renewAt
      ? undefined
      : renewAtFromCa
        ? {
            reason: 'RenewalWindow',
            message: `the CA's renewal window says renew from ${iso(renewAt)}; it expires at ${iso(notAfter)}`,
          }
        : {
            reason: 'RenewalDue',
            message: `renewal was due at ${iso(renewAt)}; it expires at ${iso(notAfter)}`,
          },
];

function parse(crt: string, key: string, input: PolicyInput, secret: TlsSecret): Parsed | string {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(crt);
  } catch (error) {
    return `tls.crt does not hold a PEM certificate (${(error as Error).message})`;
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    return 'tls.key does not hold a PEM private key';
  }
  const notBefore = Date.parse(leaf.validFrom);
  const notAfter = Date.parse(leaf.validTo);
  const certificateId = certificateIdOf(leaf, input, secret);
  const fromCa = certificateId === undefined ? undefined : input.caRenewalTime?.(certificateId);
  const caRenewAt =
    fromCa === undefined
      ? undefined
      : followedCaRenewalTime(fromCa, notBefore, notAfter, input.minimumValidityMs);
  const renewAt = caRenewAt ?? renewalTime(notBefore, notAfter, input.minimumValidityMs);
  return {
    leaf,
    key: privateKey,
    notBefore,
    notAfter,
    certificateId,
    renewAt,
    renewAtFromCa: caRenewAt !== undefined,
  };
}

/**
 * Runs the policy chain; the first failing check decides. In order: SecretMissing, ForeignSecret,
 * DataMissing, IssuerUnknown, IssuerChanged, ProfileChanged, Unparseable, KeyMismatch, KeyTypeChanged,
 * HostMissing, HostsRemoved, Expired, RenewalDue (RenewalWindow when the CA's window set the time). A certificate not valid yet is not a reason: a clock
 * behind the CA's would reissue it on every check.
 */
export function inspectCertificate(input: PolicyInput): PolicyVerdict {
  const { secret } = input;
  if (secret === undefined) {
    return { valid: false, foreign: false, reason: 'SecretMissing', message: 'the Secret does not exist' };
  }
  const manager = foreignManager(secret, input.ingressName);
  if (manager !== undefined) {
    return {
      valid: false,
      foreign: true,
      reason: 'ForeignSecret',
      message: `the Secret is ${manager}`,
    };
  }
  const crt = secret.data['tls.crt'] ?? '';
  const key = secret.data['tls.key'] ?? '';
  const missing = [crt.trim() === '' && 'tls.crt', key.trim() === '' && 'tls.key'].filter(Boolean);
  if (missing.length > 0) {
    return {
      valid: false,
      foreign: false,
      reason: 'DataMissing',
      message: `the Secret has no ${missing.join(' and no ')}`,
    };
  }
  for (const check of metadataChecks) {
    const failure = check(input, secret);
    if (failure) return { valid: false, foreign: false, ...failure, ...leafIdentity(crt, input, secret) };
  }
  const parsed = parse(crt, key, input, secret);
  if (typeof parsed === 'string')
    return { valid: false, foreign: false, reason: 'Unparseable', message: parsed };
  const fingerprint = fingerprintOf(parsed.leaf);
  const { notBefore, notAfter, renewAt, certificateId } = parsed;
  const identity = {
    fingerprint,
    notBefore,
    notAfter,
    ...(certificateId !== undefined && { certificateId }),
  };
  for (const check of certificateChecks) {
    const failure = check(input, parsed);
    if (failure) return { valid: false, foreign: false, ...failure, ...identity };
  }
  return {
    valid: true,
    foreign: false,
    reason: 'Valid',
    message: `valid until ${iso(notAfter)}, renewal from ${iso(renewAt)}${parsed.renewAtFromCa ? " (the CA's renewal window)" : ''}`,
    ...identity,
    renewAt,
  };
}
