/**
 * Test certificates made with node-forge: self-signed, with the hosts, validity and key the test asks
 * for, so policy tests cover every case without a CA.
 */
import forge from 'node-forge';

/** What to put in a test certificate. */
export interface TestCertificateOptions {
  hosts: string[];
  notBefore: Date;
  notAfter: Date;
  /** Sign with this key pair instead of a new one (to make a mismatched pair, pass another's). */
  keys?: forge.pki.rsa.KeyPair;
}

let sharedKeys: forge.pki.rsa.KeyPair | undefined;

/** A 1024-bit RSA key pair made once per process: fast, and good enough to test parsing and matching. */
export function testKeys(): forge.pki.rsa.KeyPair {
  sharedKeys ??= forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 });
  return sharedKeys;
}

/** A new 1024-bit RSA key pair, for a key that must not match. */
export function otherKeys(): forge.pki.rsa.KeyPair {
  return forge.pki.rsa.generateKeyPair({ bits: 1024, e: 0x10001 });
}

/** PEM certificate and PEM private key for the options. */
export function testCertificate(options: TestCertificateOptions): { crt: string; key: string } {
  const keys = options.keys ?? testKeys();
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = keys.publicKey;
  certificate.serialNumber = forge.util.bytesToHex(forge.random.getBytesSync(8)).replace(/^[89a-f]/, '1');
  certificate.validity.notBefore = options.notBefore;
  certificate.validity.notAfter = options.notAfter;
  const subject = [{ name: 'commonName', value: options.hosts[0] ?? 'test' }];
  certificate.setSubject(subject);
  certificate.setIssuer(subject);
  certificate.setExtensions([
    { name: 'subjectAltName', altNames: options.hosts.map((value) => ({ type: 2, value })) },
  ]);
  certificate.sign(keys.privateKey, forge.md.sha256.create());
  return { crt: forge.pki.certificateToPem(certificate), key: forge.pki.privateKeyToPem(keys.privateKey) };
}
