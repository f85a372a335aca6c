import type { X509Certificate } from 'node:crypto';
import { certFromBase64, issuerMatches, serialMatches } from './cert-match.js';
import { subjectKeyIdentifier } from '../../pki/certificate-facts.js';
import { NS, WSS } from '../model/namespaces.js';
import { idOf } from '../message/xml-util.js';
import { canonicalText, childElements, textOf } from '../../xml/index.js';

/** RFC 4514 form of a certificate's issuer (most specific RDN first), as XMLDSig X509IssuerName wants. */
export function rfc4514Issuer(cert: X509Certificate): string {
  let name = rfc4514IssuerOf.get(cert);
  if (name === undefined) rfc4514IssuerOf.set(cert, (name = formatRfc4514Issuer(cert)));
  return name;
}
/** rfc4514Issuer per certificate object: the peer's encryption certificate is named in every message sent to it. */
const rfc4514IssuerOf = new WeakMap<X509Certificate, string>();

function formatRfc4514Issuer(cert: X509Certificate): string {
  const escape = (v: string) =>
    v
      .replace(/([,+"\\<>;=])/g, '\\$1')
      .replace(/^([ #])/, '\\$1')
      .replace(/ $/, '\\ ');
  return cert.issuer
    .split('\n')
    .filter((l) => l.includes('='))
    .map((l) => {
      const eq = l.indexOf('=');
      return `${l.slice(0, eq)}=${escape(l.slice(eq + 1))}`;
    })
    .reverse()
    .join(',');
}

/**
 * `<wsse:SecurityTokenReference><ds:X509Data><ds:X509IssuerSerial>…` naming `cert` (WSS X.509 token profile
 * §3.2), as text inside an element that declares the ds prefix.
 */
export function issuerSerialReferenceXml(cert: X509Certificate): string {
  const serial = BigInt(`0x${cert.serialNumber}`).toString(10);
  return (
    `<wsse:SecurityTokenReference xmlns:wsse="${NS.wsse}"><ds:X509Data><ds:X509IssuerSerial>` +
    `<ds:X509IssuerName>${canonicalText(rfc4514Issuer(cert))}</ds:X509IssuerName>` +
    `<ds:X509SerialNumber>${serial}</ds:X509SerialNumber></ds:X509IssuerSerial></ds:X509Data></wsse:SecurityTokenReference>`
  );
}

function fromX509Data(data: Element, candidates: readonly X509Certificate[]): X509Certificate | undefined {
  const serial = childElements(data, NS.ds, 'X509IssuerSerial')[0];
  if (serial) {
    const name = childElements(serial, NS.ds, 'X509IssuerName')[0];
    const number = childElements(serial, NS.ds, 'X509SerialNumber')[0];
    return name && number
      ? candidates.find((c) => issuerMatches(c, textOf(name)) && serialMatches(c, textOf(number)))
      : undefined;
  }
  const ski = childElements(data, NS.ds, 'X509SKI')[0];
  if (ski) {
    const want = Buffer.from(textOf(ski), 'base64');
    return candidates.find((c) => subjectKeyIdentifier(c)?.equals(want));
  }
  const cert = childElements(data, NS.ds, 'X509Certificate')[0];
  const given = cert ? certFromBase64(textOf(cert)) : undefined;
  return given ? candidates.find((c) => c.raw.equals(given.raw)) : undefined;
}

/**
 * Which of our certificates a key reference names: a wsse:SecurityTokenReference (Reference to a
 * BinarySecurityToken of `security`, KeyIdentifier SKI or X509v3, X509Data) or a bare ds:X509Data, as
 * children of `holder` (a ds:KeyInfo or xenc:RecipientKeyInfo). Undefined when none of `candidates`.
 */
export function matchRecipient(
  holder: Element | undefined,
  security: Element,
  candidates: readonly X509Certificate[],
): X509Certificate | undefined {
  if (!holder) return undefined;
  const str = childElements(holder, NS.wsse, 'SecurityTokenReference')[0];
  const data = childElements(str ?? holder, NS.ds, 'X509Data')[0];
  if (data) return fromX509Data(data, candidates);
  if (!str) return undefined;
  const ref = childElements(str, NS.wsse, 'Reference')[0];
  if (ref) {
    const uri = ref.getAttribute('URI') ?? '';
    const bst = childElements(security, NS.wsse, 'BinarySecurityToken').filter(
      (b) => `#${idOf(b) ?? ''}` === uri,
    );
    const cert = bst.length === 1 ? certFromBase64(textOf(bst[0]!)) : undefined;
    return cert ? candidates.find((c) => c.raw.equals(cert.raw)) : undefined;
  }
  const keyId = childElements(str, NS.wsse, 'KeyIdentifier')[0];
  if (!keyId) return undefined;
  const valueType = keyId.getAttribute('ValueType');
  if (valueType === WSS.x509SubjectKeyIdentifier) {
    const want = Buffer.from(textOf(keyId), 'base64');
    return candidates.find((c) => subjectKeyIdentifier(c)?.equals(want));
  }
  if (valueType === WSS.x509v3) {
    const cert = certFromBase64(textOf(keyId));
    return cert ? candidates.find((c) => c.raw.equals(cert.raw)) : undefined;
  }
  return undefined;
}
