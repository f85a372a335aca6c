import { X509Certificate as Cert, type X509Certificate } from 'node:crypto';
import { derChildren, readDerElement } from '../../pki/der.js';
import type { Finding } from '../../pki/types.js';
import { certFromBase64, issuerMatches, serialMatches } from './cert-match.js';
import { subjectKeyIdentifier } from '../../pki/certificate-facts.js';
import { NS, WSS } from '../model/namespaces.js';
import { childElements, textOf } from '../../xml/index.js';

export interface ResolvedToken {
  readonly certificate: X509Certificate;
  /** Other certificates the message carried (for path building). */
  readonly intermediates: readonly X509Certificate[];
  readonly how: 'bst' | 'x509-certificate' | 'issuer-serial' | 'ski';
}

function matchIssuerSerial(el: Element, candidates: readonly X509Certificate[]): X509Certificate | undefined {
  const name = childElements(el, NS.ds, 'X509IssuerName')[0];
  const serial = childElements(el, NS.ds, 'X509SerialNumber')[0];
  if (!name || !serial) return undefined;
  return candidates.find((c) => issuerMatches(c, textOf(name)) && serialMatches(c, textOf(serial)));
}

function matchSki(b64: string, candidates: readonly X509Certificate[]): X509Certificate | undefined {
  const want = Buffer.from(b64.replace(/\s+/g, ''), 'base64');
  return candidates.find((c) => subjectKeyIdentifier(c)?.equals(want));
}

/** The certificates of a base64 PkiPath (SEQUENCE OF Certificate), undefined when it is not one. */
function pkiPathCertificates(b64: string): X509Certificate[] | undefined {
  try {
    const certs = derChildren(readDerElement(Buffer.from(b64.replace(/\s+/g, ''), 'base64'))).map(
      (c) => new Cert(c.bytes),
    );
    return certs.length > 0 ? certs : undefined;
  } catch {
    return undefined;
  }
}

/** The leaf of a set of certificates: the one that issued none of the others. */
function leafOf(certs: X509Certificate[]): X509Certificate | undefined {
  if (certs.length <= 1) return certs[0];
  return certs.find((c) => !certs.some((o) => o !== c && o.checkIssued(c)));
}

function fromX509Data(data: Element, candidates: readonly X509Certificate[]): ResolvedToken | undefined {
  const certs = childElements(data, NS.ds, 'X509Certificate')
    .map((e) => certFromBase64(textOf(e)))
    .filter((c): c is X509Certificate => !!c);
  const all = [...certs, ...candidates];
  const serial = childElements(data, NS.ds, 'X509IssuerSerial')[0];
  if (serial) {
    const c = matchIssuerSerial(serial, all);
    return c
      ? { certificate: c, intermediates: certs.filter((x) => x !== c), how: 'issuer-serial' }
      : undefined;
  }
  const ski = childElements(data, NS.ds, 'X509SKI')[0];
  if (ski) {
    const c = matchSki(textOf(ski), all);
    return c ? { certificate: c, intermediates: certs.filter((x) => x !== c), how: 'ski' } : undefined;
  }
  const leaf = leafOf(certs);
  return leaf
    ? { certificate: leaf, intermediates: certs.filter((x) => x !== leaf), how: 'x509-certificate' }
    : undefined;
}

/**
 * Resolve ds:KeyInfo to a certificate: a wsse:SecurityTokenReference to a BinarySecurityToken (X509v3)
 * in the same Security header, or to issuer/serial or a SubjectKeyIdentifier of a known certificate,
 * or a ds:X509Data. `byId` must already be free of duplicate ids.
 */
export function resolveSigningToken(
  keyInfo: Element | undefined,
  security: Element,
  byId: ReadonlyMap<string, Element[]>,
  known: readonly X509Certificate[],
  findings: Finding[],
): ResolvedToken | undefined {
  const err = (code: string, message: string) => {
    findings.push({ code, message, severity: 'error' });
    return undefined;
  };
  if (!keyInfo) return err('AS4_SIG_KEY_UNRESOLVED', 'Signature has no KeyInfo');
  // The known certificates and those of the header's X.509 tokens, for the look-ups by SKI or X509Data only: a
  // reference to one token (the usual form) decodes that token alone.
  const candidates = (): X509Certificate[] => [
    ...known,
    ...childElements(security, NS.wsse, 'BinarySecurityToken')
      .filter((b) => (b.getAttribute('ValueType') ?? WSS.x509v3) === WSS.x509v3)
      .map((b) => certFromBase64(textOf(b)))
      .filter((c): c is X509Certificate => !!c),
  ];
  const str = childElements(keyInfo, NS.wsse, 'SecurityTokenReference')[0];
  if (str) {
    const ref = childElements(str, NS.wsse, 'Reference')[0];
    if (ref) {
      const uri = ref.getAttribute('URI') ?? '';
      const targets = uri.startsWith('#') ? (byId.get(uri.slice(1)) ?? []) : [];
      const bst = targets[0];
      // The token must be a BinarySecurityToken of this Security header: a token found elsewhere (another
      // header, the Body) would let an attacker choose the key that "signed" the message.
      if (
        targets.length !== 1 ||
        !bst ||
        bst.namespaceURI !== NS.wsse ||
        bst.localName !== 'BinarySecurityToken' ||
        bst.parentNode !== security
      ) {
        return err(
          'AS4_SIG_KEY_UNRESOLVED',
          `token reference ${uri} does not point to a BinarySecurityToken of the Security header`,
        );
      }
      const vt = bst.getAttribute('ValueType');
      const et = bst.getAttribute('EncodingType');
      if (vt === WSS.x509PkiPathV1 && (!et || et === WSS.base64Binary)) {
        // The signer is the path's end entity: the certificate that issued none of the others (found by the
        // signatures, not by the order, so a path written either way round resolves the same).
        const path = pkiPathCertificates(textOf(bst));
        const leaf = path && leafOf(path);
        return leaf && path
          ? { certificate: leaf, intermediates: path.filter((c) => c !== leaf), how: 'bst' }
          : err('AS4_SIG_KEY_UNRESOLVED', 'the X509PKIPathv1 token is not a PkiPath of X.509 certificates');
      }
      if ((vt && vt !== WSS.x509v3) || (et && et !== WSS.base64Binary))
        return err('AS4_SIG_KEY_UNRESOLVED', `unsupported token type ${vt ?? ''}`);
      const cert = certFromBase64(textOf(bst));
      return cert
        ? { certificate: cert, intermediates: [], how: 'bst' }
        : err('AS4_SIG_KEY_UNRESOLVED', 'BinarySecurityToken is not an X.509 certificate');
    }
    const keyId = childElements(str, NS.wsse, 'KeyIdentifier')[0];
    if (keyId) {
      if (keyId.getAttribute('ValueType') !== WSS.x509SubjectKeyIdentifier)
        return err(
          'AS4_SIG_KEY_UNRESOLVED',
          `unsupported KeyIdentifier ${keyId.getAttribute('ValueType') ?? ''}`,
        );
      const c = matchSki(textOf(keyId), candidates());
      return c
        ? { certificate: c, intermediates: [], how: 'ski' }
        : err('AS4_SIG_KEY_UNRESOLVED', 'no known certificate has this SubjectKeyIdentifier');
    }
    const data = childElements(str, NS.ds, 'X509Data')[0];
    if (data)
      return (
        fromX509Data(data, candidates()) ??
        err('AS4_SIG_KEY_UNRESOLVED', 'no known certificate matches the X509Data')
      );
    return err('AS4_SIG_KEY_UNRESOLVED', 'unsupported SecurityTokenReference');
  }
  const data = childElements(keyInfo, NS.ds, 'X509Data')[0];
  if (data)
    return (
      fromX509Data(data, candidates()) ??
      err('AS4_SIG_KEY_UNRESOLVED', 'no known certificate matches the X509Data')
    );
  return err('AS4_SIG_KEY_UNRESOLVED', 'KeyInfo holds no supported key reference');
}
