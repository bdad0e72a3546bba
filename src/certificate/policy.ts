/**
 * Certificate policy: is the certificate in a Secret good for the hosts of a `spec.tls` entry?
 *
 * A chain of pure checks evaluated in order; the first that fails gives the reason and a message for
 * people. Parsing uses node:crypto's X509Certificate, not node-forge: it reads ECDSA keys (node-forge
 * reads RSA only) and is what Node itself verifies TLS with (docs/decisions.md).
 */
import { X509Certificate, createPrivateKey, createHash, type KeyObject } from 'node:crypto';
import { renewalTime } from './renewal.ts';

/** The data of a `kubernetes.io/tls` Secret, decoded; undefined when there is no Secret. */
export interface TlsSecretData {
  'tls.crt'?: string;
  'tls.key'?: string;
}

/** What the checks need. Times are ms since the epoch. */
export interface PolicyInput {
  secret: TlsSecretData | undefined;
  hosts: string[];
  now: number;
  minimumValidityMs: number;
  /** The start of the CA's ACME Renewal Information window, when the CA offers one. */
  ariWindowStart?: number;
}

/** Why a certificate must be (re)issued; `Valid` when it must not. */
export type PolicyReason =
  | 'Valid'
  | 'SecretMissing'
  | 'DataMissing'
  | 'Unparseable'
  | 'KeyMismatch'
  | 'HostMissing'
  | 'NotYetValid'
  | 'Expired'
  | 'RenewalDue';

/** The verdict of the policy chain. */
export interface PolicyVerdict {
  valid: boolean;
  reason: PolicyReason;
  message: string;
  /** sha256 of the leaf certificate (DER, hex), when there is one that parses. */
  fingerprint?: string;
  notAfter?: number;
  /** When renewal is due, for a valid certificate. */
  renewAt?: number;
}

interface Parsed {
  leaf: X509Certificate;
  key: KeyObject;
  notBefore: number;
  notAfter: number;
  /** The CA's renewal window start when known, else the lifetime-scaled renewal time. */
  renewAt: number;
}

type Check = (input: PolicyInput, parsed: Parsed) => Omit<PolicyVerdict, 'valid'> | undefined;

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

const iso = (ms: number) => new Date(ms).toISOString();

/** The checks after parsing, in order. */
const checks: Check[] = [
  (_input, { leaf, key }) =>
    leaf.checkPrivateKey(key)
      ? undefined
      : { reason: 'KeyMismatch', message: 'tls.key is not the private key of the certificate in tls.crt' },
  ({ hosts }, { leaf }) => {
    const names = new Set(dnsNames(leaf));
    const missing = hosts.map(normalizeHost).filter((host) => !names.has(host));
    return missing.length === 0
      ? undefined
      : { reason: 'HostMissing', message: `the certificate does not cover ${missing.join(', ')}` };
  },
  ({ now }, { notBefore }) =>
    now < notBefore
      ? { reason: 'NotYetValid', message: `the certificate is not valid before ${iso(notBefore)}` }
      : undefined,
  ({ now }, { notAfter }) =>
    now >= notAfter
      ? { reason: 'Expired', message: `the certificate expired at ${iso(notAfter)}` }
      : undefined,
  ({ now, ariWindowStart }, { notAfter, renewAt }) =>
    now >= renewAt
      ? {
          reason: 'RenewalDue',
          message: `renewal was due at ${iso(renewAt)}${ariWindowStart === undefined ? '' : " (the CA's renewal window)"}; it expires at ${iso(notAfter)}`,
        }
      : undefined,
];

function parse(crt: string, key: string, input: PolicyInput): Parsed | string {
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
  const renewAt = input.ariWindowStart ?? renewalTime(notBefore, notAfter, input.minimumValidityMs);
  return { leaf, key: privateKey, notBefore, notAfter, renewAt };
}

/** Runs the policy chain; the first failing check decides. */
export function inspectCertificate(input: PolicyInput): PolicyVerdict {
  const { secret } = input;
  if (secret === undefined)
    return { valid: false, reason: 'SecretMissing', message: 'the Secret does not exist' };
  const crt = secret['tls.crt'] ?? '';
  const key = secret['tls.key'] ?? '';
  const missing = [crt.trim() === '' && 'tls.crt', key.trim() === '' && 'tls.key'].filter(Boolean);
  if (missing.length > 0) {
    return { valid: false, reason: 'DataMissing', message: `the Secret has no ${missing.join(' and no ')}` };
  }
  const parsed = parse(crt, key, input);
  if (typeof parsed === 'string') return { valid: false, reason: 'Unparseable', message: parsed };
  const fingerprint = createHash('sha256').update(parsed.leaf.raw).digest('hex');
  const { notAfter, renewAt } = parsed;
  for (const check of checks) {
    const failure = check(input, parsed);
    if (failure) return { valid: false, ...failure, fingerprint, notAfter };
  }
  return {
    valid: true,
    reason: 'Valid',
    message: `valid until ${iso(notAfter)}, renewal from ${iso(renewAt)}`,
    fingerprint,
    notAfter,
    renewAt,
  };
}
