// A new key per certificate, of the type and size asked, and a CSR naming every host.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { crypto as acmeCrypto } from 'acme-client';
import {
  createCertificateKey,
  createKeyAndCsr,
  DEFAULT_KEY_TYPE,
  keyMadeAhead,
  DEFAULT_RSA_KEY_SIZE,
  MAX_COMMON_NAME_LENGTH,
} from '../../src/acme/keys.ts';

const run = promisify(execFile);

/** Subject CN, SANs and the public key of a CSR, after openssl verified its signature. */
async function readCsr(csrPem: string) {
  const { commonName, altNames } = acmeCrypto.readCsrDomains(csrPem);
  const child = run('openssl', ['req', '-noout', '-verify', '-pubkey']);
  child.child.stdin?.end(csrPem);
  const { stdout } = await child;
  return { commonName: commonName ?? undefined, sans: altNames, publicKeyPem: stdout.replace(/^[^-]*/, '') };
}

const publicPemOf = (keyPem: string) =>
  createPublicKey(createPrivateKey(keyPem)).export({ format: 'pem', type: 'spki' }).toString();

test('the default is RSA 2048, kube-lego’s key', async () => {
  assert.equal(DEFAULT_KEY_TYPE, 'rsa');
  assert.equal(DEFAULT_RSA_KEY_SIZE, 2048);
  const key = createPrivateKey(await createCertificateKey());
  assert.equal(key.asymmetricKeyType, 'rsa');
  assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
});

test('RSA of the size asked, ECDSA on P-256', async () => {
  const rsa = createPrivateKey(await createCertificateKey({ type: 'rsa', rsaKeySize: 3072 }));
  assert.equal(rsa.asymmetricKeyDetails?.modulusLength, 3072);
  const ec = createPrivateKey(await createCertificateKey({ type: 'ecdsa', rsaKeySize: 4096 }));
  assert.equal(ec.asymmetricKeyType, 'ec');
  assert.equal(ec.asymmetricKeyDetails?.namedCurve, 'prime256v1');
});

test('RSA sizes outside 2048..8192 are refused', async () => {
  await assert.rejects(createCertificateKey({ rsaKeySize: 1024 }), /RSA key size 1024 is not/);
  await assert.rejects(createCertificateKey({ rsaKeySize: 2048.5 }), RangeError);
});

test('every call makes a new key', async () => {
  const [a, b] = await Promise.all([createKeyAndCsr(['a.test']), createKeyAndCsr(['a.test'])]);
  assert.notEqual(a.keyPem, b.keyPem);
});

for (const type of ['rsa', 'ecdsa'] as const) {
  test(`${type}: the CSR names the first host as CN and every host as a SAN, signed by the key`, async () => {
    const hosts = ['www.shop.test', 'shop.test', 'api.shop.test'];
    const { keyPem, csrPem } = await createKeyAndCsr(hosts, { type });
    assert.match(keyPem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(csrPem, /^-----BEGIN CERTIFICATE REQUEST-----\n/);
    const csr = await readCsr(csrPem);
    assert.equal(csr.commonName, 'www.shop.test');
    assert.deepEqual(csr.sans, hosts);
    assert.equal(csr.publicKeyPem, publicPemOf(keyPem));
  });
}

test('a first host longer than 64 characters is a SAN only, with no CN', async () => {
  const long = `${'a'.repeat(60)}.shop.test`;
  assert.ok(long.length > MAX_COMMON_NAME_LENGTH);
  const csr = await readCsr((await createKeyAndCsr([long, 'b.test'], { type: 'ecdsa' })).csrPem);
  assert.equal(csr.commonName, undefined);
  assert.deepEqual(csr.sans, [long, 'b.test']);
});

test('no hosts is an error', async () => {
  await assert.rejects(createKeyAndCsr([]), /at least one host/);
});

test('a key made ahead is one key, of the type asked, however often it is asked for', async () => {
  const key = keyMadeAhead({ type: 'ecdsa' });
  const [first, second] = await Promise.all([key(), key()]);
  assert.equal(first, second);
  assert.equal(createPrivateKey(first).asymmetricKeyType, 'ec');
});

test('a key made ahead that cannot be made fails whoever asks, and only then', async () => {
  let unhandled: unknown;
  const onUnhandled = (reason: unknown) => (unhandled = reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const key = keyMadeAhead({ type: 'rsa', rsaKeySize: 1024 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(unhandled, undefined, 'no unhandled rejection before anyone asks');
    await assert.rejects(key(), /RSA key size 1024 is not/);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});
