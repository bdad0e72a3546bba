/**
 * The ACME Renewal Information certificate identifier (RFC 9773 §4.1): what the CA's `renewalInfo` URL is
 * asked about and what a new order's `replaces` names. Pure: a certificate in, a string out.
 *
 * It is `base64url(keyIdentifier of the Authority Key Identifier extension) "." base64url(serial)`, both
 * unpadded, the serial being the DER content octets of the INTEGER: with its leading `00` when the first
 * octet is 0x80 or more (the RFC's example serial `00 87 65 43 21` is `AIdlQyE`). node:crypto's
 * X509Certificate has no accessor for the extension and gives the serial as a number without that octet,
 * so both are read from the DER with node-forge's ASN.1 reader (which, unlike its certificate reader,
 * does not care about the key type).
 */
import forge from 'node-forge';

/** The Authority Key Identifier extension (RFC 5280 §4.2.1.1). */
const AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';

type Node = forge.asn1.Asn1;

const children = (node: Node | undefined): Node[] =>
  node !== undefined && Array.isArray(node.value) ? (node.value as Node[]) : [];

const bytesOf = (node: Node | undefined): string | undefined =>
  node !== undefined && typeof node.value === 'string' ? node.value : undefined;

const base64url = (binary: string) => Buffer.from(binary, 'binary').toString('base64url');

/** The keyIdentifier ([0] IMPLICIT OCTET STRING) of the AKI extension among the TBSCertificate's fields. */
function authorityKeyIdentifier(tbsFields: Node[]): string | undefined {
  const extensions = tbsFields.find(
    (field) => field.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && field.type === 3,
  );
  for (const extension of children(children(extensions)[0])) {
    const [oid, ...rest] = children(extension);
    if (oid === undefined || forge.asn1.derToOid(bytesOf(oid) ?? '') !== AUTHORITY_KEY_IDENTIFIER) continue;
    const value = bytesOf(rest.at(-1));
    if (value === undefined) return undefined;
    const keyIdentifier = children(forge.asn1.fromDer(value)).find(
      (field) => field.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && field.type === 0,
    );
    return bytesOf(keyIdentifier);
  }
  return undefined;
}

/**
 * The ARI certificate identifier of a DER certificate; undefined when it has no Authority Key Identifier
 * (a self-signed certificate, one made by hand: no CA can say anything about it) or does not parse.
 */
export function ariCertificateId(der: Uint8Array): string | undefined {
  let tbsFields: Node[];
  try {
    tbsFields = children(children(forge.asn1.fromDer(Buffer.from(der).toString('binary')))[0]);
  } catch {
    return undefined;
  }
  // TBSCertificate: [0] version (absent for v1), serialNumber, ...
  const serial = tbsFields.find(
    (field) => field.tagClass === forge.asn1.Class.UNIVERSAL && field.type === forge.asn1.Type.INTEGER,
  );
  const serialBytes = bytesOf(serial);
  const keyIdentifier = authorityKeyIdentifier(tbsFields);
  if (serialBytes === undefined || keyIdentifier === undefined || keyIdentifier === '') return undefined;
  return `${base64url(keyIdentifier)}.${base64url(serialBytes)}`;
}
