/**
 * Test certificates made with node-forge: self-signed, with the hosts, validity and key the test asks
 * for, so policy tests cover every case without a CA.
 */
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

/** What to put in a test certificate. */
export interface TestCertificateOptions {
  hosts: string[];
  notBefore: Date;
  notAfter: Date;
  /** Sign with this key pair instead of a new one (to make a mismatched pair, pass another's). */
  keys?: forge.pki.rsa.KeyPair;
  /** `ecdsa` certifies a new ECDSA key on `curve` instead of an RSA key (`keys` then only signs). */
  keyType?: 'rsa' | 'ecdsa';
  /** The curve of an ECDSA key, as node:crypto names it; default P-256. */
  curve?: string;
  /** The serial number's DER content octets, hex; a random positive 64-bit serial when unset. */
  serialHex?: string;
  /** The keyIdentifier of an Authority Key Identifier extension, hex; none when unset (self-signed). */
  authorityKeyIdHex?: string;
}

let sharedKeys: forge.pki.rsa.KeyPair | undefined;

/** A 2048-bit RSA key pair (LEGO_RSA_KEYSIZE's default) made once per process. */
export function testKeys(): forge.pki.rsa.KeyPair {
  sharedKeys ??= rsaKeys(2048);
  return sharedKeys;
}

/** A new 2048-bit RSA key pair, for a key that must not match. */
export function otherKeys(): forge.pki.rsa.KeyPair {
  return rsaKeys(2048);
}

/** A new RSA key pair of `bits` (node-forge uses node:crypto's generator, so this is fast). */
export function rsaKeys(bits: number): forge.pki.rsa.KeyPair {
  return forge.pki.rsa.generateKeyPair({ bits, e: 0x10001 });
}

/** PEM certificate and PEM private key for the options. */
export function testCertificate(options: TestCertificateOptions): { crt: string; key: string } {
  const keys = options.keys ?? testKeys();
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = keys.publicKey;
  certificate.serialNumber =
    options.serialHex ?? forge.util.bytesToHex(forge.random.getBytesSync(8)).replace(/^[89a-f]/, '1');
  certificate.validity.notBefore = options.notBefore;
  certificate.validity.notAfter = options.notAfter;
  const subject = [{ name: 'commonName', value: options.hosts[0] ?? 'test' }];
  certificate.setSubject(subject);
  certificate.setIssuer(subject);
  certificate.setExtensions([
    { name: 'subjectAltName', altNames: options.hosts.map((value) => ({ type: 2, value })) },
    ...(options.authorityKeyIdHex === undefined
      ? []
      : [
          { name: 'authorityKeyIdentifier', keyIdentifier: forge.util.hexToBytes(options.authorityKeyIdHex) },
        ]),
  ]);
  certificate.sign(keys.privateKey, forge.md.sha256.create());
  if (options.keyType !== 'ecdsa') {
    return { crt: forge.pki.certificateToPem(certificate), key: forge.pki.privateKeyToPem(keys.privateKey) };
  }
  // node-forge writes RSA keys only: put the ECDSA key's SubjectPublicKeyInfo (field 7 of the
  // TBSCertificate, after version, serial, signature algorithm, issuer, validity and subject) in place of
  // the RSA one, and sign again with the RSA key.
  const ecdsa = generateKeyPairSync('ec', { namedCurve: options.curve ?? 'P-256' });
  const tbs = certificate.tbsCertificate as forge.asn1.Asn1 & { value: forge.asn1.Asn1[] };
  tbs.value[6] = forge.asn1.fromDer(
    ecdsa.publicKey.export({ type: 'spki', format: 'der' }).toString('binary'),
  );
  const digest = forge.md.sha256.create();
  digest.update(forge.asn1.toDer(tbs).getBytes());
  certificate.signature = keys.privateKey.sign(digest);
  return {
    crt: forge.pki.certificateToPem(certificate),
    key: ecdsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
