/** The ACME Renewal Information certificate identifier (RFC 9773 §4.1), by table. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { ariCertificateId } from '../../src/acme/certificate-id.ts';
import { testCertificate } from '../support/certificates.ts';

const DAY = 86_400_000;
/** The Authority Key Identifier of RFC 9773's example. */
const RFC_AKI = '69885b6b87464041e1b37b847ba0ae2cde01c8d4';

function der(options: { serialHex?: string; authorityKeyIdHex?: string; keyType?: 'rsa' | 'ecdsa' }) {
  const { crt } = testCertificate({
    hosts: ['shop.test'],
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 89 * DAY),
    ...options,
  });
  return new X509Certificate(crt).raw;
}

describe('ARI certificate identifier', () => {
  const table: [name: string, serialHex: string, authorityKeyIdHex: string, expected: string][] = [
    [
      "RFC 9773's example: the serial's leading 00 is kept",
      '0087654321',
      RFC_AKI,
      'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
    ],
    [
      'a serial whose first octet is below 0x80 has no 00',
      '1234567890abcdef',
      RFC_AKI,
      'aYhba4dGQEHhs3uEe6CuLN4ByNQ.EjRWeJCrze8',
    ],
    ['a one-octet serial', '05', '0102', 'AQI.BQ'],
  ];
  for (const [name, serialHex, authorityKeyIdHex, expected] of table) {
    it(name, () => {
      assert.equal(ariCertificateId(der({ serialHex, authorityKeyIdHex })), expected);
    });
  }

  it('reads an ECDSA certificate as well as an RSA one', () => {
    assert.equal(
      ariCertificateId(der({ serialHex: '0087654321', authorityKeyIdHex: RFC_AKI, keyType: 'ecdsa' })),
      'aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE',
    );
  });

  it('gives none for a certificate without an Authority Key Identifier (self-signed, by hand)', () => {
    assert.equal(ariCertificateId(der({ serialHex: '0087654321' })), undefined);
  });

  it('gives none for bytes that are not a certificate, or a certificate cut short', () => {
    assert.equal(ariCertificateId(Buffer.from('not a certificate')), undefined);
    assert.equal(ariCertificateId(new Uint8Array()), undefined);
    const whole = der({ serialHex: '0087654321', authorityKeyIdHex: RFC_AKI });
    for (const length of [1, 2, 4, 40, whole.length - 1]) {
      assert.equal(ariCertificateId(whole.subarray(0, length)), undefined, `${length} bytes`);
    }
  });
});
