/**
 * The ACME Renewal Information certificate identifier (RFC 9773 §4.1): what the CA's `renewalInfo` URL is
 * asked about and what a new order's `replaces` names. Pure: a certificate in, a string out.
 *
 * It is `base64url(keyIdentifier of the Authority Key Identifier extension) "." base64url(serial)`, both
 * unpadded, the serial being the DER content octets of the INTEGER: with its leading `00` when the first
 * octet is 0x80 or more (the RFC's example serial `00 87 65 43 21` is `AIdlQyE`). node:crypto's
 * X509Certificate has no accessor for the extension and gives the serial as a number without that octet,
 * so both are read from the DER. Every valid certificate is inspected at each periodic check, so the DER is
 * walked, not decoded: only the headers on the way to the two fields are read (a full ASN.1 decode with
 * node-forge cost about 1 ms a certificate).
 */

/** The Authority Key Identifier extension's OID, 2.5.29.35, as DER content octets. */
const AUTHORITY_KEY_IDENTIFIER = Buffer.from([0x55, 0x1d, 0x23]);

/** One DER element: its tag octet and where its content lies. */
interface Element {
  tag: number;
  start: number;
  end: number;
}

/** The element at `offset` of `der`, or undefined when its header is malformed or it overruns `limit`. */
function elementAt(der: Uint8Array, offset: number, limit: number): Element | undefined {
  if (offset + 2 > limit) return undefined;
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const octets = length & 0x7f;
    if (octets === 0 || octets > 4 || start + octets > limit) return undefined;
    length = 0;
    for (let i = 0; i < octets; i += 1) length = length * 256 + der[start + i]!;
    start += octets;
  }
  const end = start + length;
  return end > limit ? undefined : { tag, start, end };
}

/** The elements inside `parent`, in order; undefined when one is malformed. */
function childrenOf(der: Uint8Array, parent: Element): Element[] | undefined {
  const children: Element[] = [];
  for (let offset = parent.start; offset < parent.end;) {
    const child = elementAt(der, offset, parent.end);
    if (child === undefined) return undefined;
    children.push(child);
    offset = child.end;
  }
  return children;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OID = 0x06;
const OCTET_STRING = 0x04;
/** [3] EXPLICIT, constructed: the TBSCertificate's extensions. */
const EXTENSIONS = 0xa3;
/** [0] IMPLICIT, primitive: the AuthorityKeyIdentifier's keyIdentifier. */
const KEY_IDENTIFIER = 0x80;

/** The keyIdentifier of the AKI extension among the TBSCertificate's fields. */
function authorityKeyIdentifier(der: Uint8Array, tbsFields: Element[]): Uint8Array | undefined {
  const wrapper = tbsFields.find((field) => field.tag === EXTENSIONS);
  const list = wrapper === undefined ? undefined : childrenOf(der, wrapper)?.[0];
  for (const extension of (list && childrenOf(der, list)) ?? []) {
    const [oid, ...rest] = childrenOf(der, extension) ?? [];
    if (oid?.tag !== OID || !AUTHORITY_KEY_IDENTIFIER.equals(der.subarray(oid.start, oid.end))) continue;
    const value = rest.at(-1);
    if (value?.tag !== OCTET_STRING) return undefined;
    const aki = elementAt(der, value.start, value.end);
    if (aki?.tag !== SEQUENCE) return undefined;
    const keyIdentifier = childrenOf(der, aki)?.find((field) => field.tag === KEY_IDENTIFIER);
    return keyIdentifier === undefined ? undefined : der.subarray(keyIdentifier.start, keyIdentifier.end);
  }
  return undefined;
}

/**
 * The ARI certificate identifier of a DER certificate; undefined when it has no Authority Key Identifier
 * (a self-signed certificate, one made by hand: no CA can say anything about it) or does not parse.
 */
export function ariCertificateId(der: Uint8Array): string | undefined {
  const certificate = elementAt(der, 0, der.length);
  if (certificate?.tag !== SEQUENCE) return undefined;
  const tbs = childrenOf(der, certificate)?.[0];
  if (tbs?.tag !== SEQUENCE) return undefined;
  const tbsFields = childrenOf(der, tbs);
  if (tbsFields === undefined) return undefined;
  // TBSCertificate: [0] version (absent for v1), serialNumber, ...
  const serial = tbsFields.find((field) => field.tag === INTEGER);
  const keyIdentifier = authorityKeyIdentifier(der, tbsFields);
  if (serial === undefined || keyIdentifier === undefined || keyIdentifier.length === 0) return undefined;
  const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
  return `${base64url(keyIdentifier)}.${base64url(der.subarray(serial.start, serial.end))}`;
}
