/**
 * Throwaway X.509 material for test servers, made with the openssl CLI (ECDSA P-256, valid for a week):
 * a self-signed CA, and server certificates it signs, so clients trust a server through the CA's PEM
 * instead of turning verification off.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its private key, both PEM. */
export interface KeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** Names a server certificate is valid for. */
export interface ServerNames {
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

/** Makes a key and a certificate for `commonName` with `extensions`, signed by `issuer` or else by itself. */
async function makeCertificate(
  commonName: string,
  extensions: readonly string[],
  issuer?: KeyPair,
): Promise<KeyPair> {
  const dir = await mkdtemp(join(tmpdir(), 'kube-lego-tls-'));
  try {
    const config = [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      `CN = ${commonName}`,
      '[ext]',
      ...extensions,
    ];
    await writeFile(join(dir, 'req.cnf'), `${config.join('\n')}\n`);
    const args = ['req', '-x509', '-config', 'req.cnf', '-extensions', 'ext', '-days', '7', '-noenc'];
    args.push(
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-keyout',
      'key.pem',
      '-out',
      'cert.pem',
    );
    if (issuer) {
      await writeFile(join(dir, 'ca.pem'), issuer.certPem);
      await writeFile(join(dir, 'ca.key'), issuer.keyPem, { mode: 0o600 });
      args.push('-CA', 'ca.pem', '-CAkey', 'ca.key');
    }
    await run('openssl', args, { cwd: dir });
    return {
      certPem: await readFile(join(dir, 'cert.pem'), 'utf8'),
      keyPem: await readFile(join(dir, 'key.pem'), 'utf8'),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Creates a self-signed certificate authority named `commonName`. */
export function createCertificateAuthority(commonName: string): Promise<KeyPair> {
  return makeCertificate(commonName, [
    'basicConstraints = critical,CA:TRUE',
    'keyUsage = critical,keyCertSign,cRLSign',
    'subjectKeyIdentifier = hash',
  ]);
}

/** Issues a TLS server certificate signed by `ca` for `names` (at least one). */
export function issueServerCertificate(ca: KeyPair, names: ServerNames): Promise<KeyPair> {
  const sans = [
    ...(names.dnsNames ?? []).map((n) => `DNS:${n}`),
    ...(names.ipAddresses ?? []).map((ip) => `IP:${ip}`),
  ];
  const [first] = [...(names.dnsNames ?? []), ...(names.ipAddresses ?? [])];
  if (!first) throw new Error('a server certificate needs at least one DNS name or IP address');
  return makeCertificate(
    first,
    [
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature',
      'extendedKeyUsage = serverAuth',
      `subjectAltName = ${sans.join(',')}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
    ],
    ca,
  );
}
