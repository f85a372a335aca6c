import { createHash, type X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/errors.js';
import { asSigner } from '../pki/index.js';
import { canonicalAttributeEscape, serializedAttributeValue } from '../xml/index.js';
import { SHA256_URI } from './algorithms.js';
import { issuerSerialV2Der } from './issuer-serial.js';
import type { WrittenXml, XadesSealOptions } from './types.js';
import { rememberedCrlBase64 } from './crl-memo.js';
import { crlsCovering } from './xades-augment.js';
import { sealSignatureAlgorithm, signatureIds } from './xades-seal.js';
import { ENVELOPED_SIGNATURE, EXC_C14N, NS, SIGNED_PROPERTIES_TYPE } from './xml.js';

/**
 * sealXml without a DOM, for a document its producer wrote as text and whose canonical form it knows (WrittenXml):
 * the same enveloped XAdES baseline signature (B-B; B-T with `tsa`; B-LT with `longTerm`), as the last child of
 * the document element, byte for byte what sealXml writes for the same document, options, clock, ids, signature
 * value and timestamp token (test/evidence/written-seal-oracle.test.ts compares the two).
 *
 * Each signed element is written twice: as sealXml's serializer writes it in place, and in its Exclusive C14N form
 * (the form a verifier computes from a parse of the result: namespace declarations the element visibly uses, on
 * the apex and on each element that uses a prefix no output ancestor declared; attributes sorted; empty elements
 * with an end tag; canonical escaping). SignedProperties and SignedInfo are digested and signed in that canonical
 * form, the SignatureTimeStamp covers the canonical ds:SignatureValue, the document Reference digests
 * `written.canonical`. `parentXPath` is not supported (the signature goes under the document element): use sealXml.
 */
export async function sealWrittenXml(written: WrittenXml, options: XadesSealOptions): Promise<string> {
  if (options.parentXPath)
    throw new QerdsError(
      'SEAL_PARENT_NOT_FOUND',
      'a written document is sealed under its document element only',
    );
  const alg = sealSignatureAlgorithm(options);
  if (!written.xml.startsWith('</', written.signatureAt))
    throw new QerdsError('SEAL_MALFORMED', 'the signature place of a written document is not an end tag');
  if (options.longTerm && !options.tsa)
    throw new QerdsError('SEAL_AUGMENT_NOT_B_T', 'B-LT needs a SignatureTimeStamp: give a TSA');
  const identity = asSigner(options.identity);

  const ids = signatureIds(options.idGenerator, (id) => written.ids.includes(id));
  // Attribute values as the serializer writes them (x) and as canonical XML does (c).
  const x = serializedAttributeValue;
  const c = canonicalAttributeEscape;
  const docDigest = sha256b64(written.canonical);
  const signingTime = new Date(Math.floor(options.clock.now().getTime() / 1000) * 1000);
  const signer = certificateText(identity.certificate);

  // SignedProperties: in place, xades is declared by QualifyingProperties and ds by ds:Signature; alone (its
  // canonical form), it declares xades and each ds: element declares ds.
  const signedPropertiesBody = (dsDecl: string, empty: (tag: string) => string): string =>
    `<xades:SignedSignatureProperties><xades:SigningTime>${signingTime.toISOString().replace('.000Z', 'Z')}</xades:SigningTime>` +
    `<xades:SigningCertificateV2><xades:Cert><xades:CertDigest>` +
    empty(`ds:DigestMethod${dsDecl} Algorithm="${SHA256_URI}"`) +
    `<ds:DigestValue${dsDecl}>${signer.sha256}</ds:DigestValue></xades:CertDigest>` +
    `<xades:IssuerSerialV2>${signer.issuerSerial}</xades:IssuerSerialV2></xades:Cert></xades:SigningCertificateV2>` +
    `</xades:SignedSignatureProperties><xades:SignedDataObjectProperties>`;
  const signedPropertiesXml =
    `<xades:SignedProperties Id="${x(ids.signedProps)}">${signedPropertiesBody('', selfClosing)}` +
    `<xades:DataObjectFormat ObjectReference="${x(`#${ids.docRef}`)}"><xades:MimeType>text/xml</xades:MimeType>` +
    `</xades:DataObjectFormat></xades:SignedDataObjectProperties></xades:SignedProperties>`;
  const signedPropertiesC14n =
    `<xades:SignedProperties xmlns:xades="${NS.xades}" Id="${c(ids.signedProps)}">` +
    signedPropertiesBody(` xmlns:ds="${NS.ds}"`, withEndTag) +
    `<xades:DataObjectFormat ObjectReference="${c(`#${ids.docRef}`)}"><xades:MimeType>text/xml</xades:MimeType>` +
    `</xades:DataObjectFormat></xades:SignedDataObjectProperties></xades:SignedProperties>`;

  // SignedInfo: its children use the ds prefix only, declared by ds:Signature in place, by SignedInfo alone.
  const signedInfoBody = (empty: (tag: string) => string, attr: (s: string) => string): string =>
    empty(`ds:CanonicalizationMethod Algorithm="${EXC_C14N}"`) +
    empty(`ds:SignatureMethod Algorithm="${attr(alg.uri)}"`) +
    `<ds:Reference Id="${attr(ids.docRef)}" URI=""><ds:Transforms>` +
    empty(`ds:Transform Algorithm="${ENVELOPED_SIGNATURE}"`) +
    empty(`ds:Transform Algorithm="${EXC_C14N}"`) +
    `</ds:Transforms>${empty(`ds:DigestMethod Algorithm="${SHA256_URI}"`)}<ds:DigestValue>${docDigest}</ds:DigestValue></ds:Reference>` +
    `<ds:Reference Id="${attr(ids.propsRef)}" Type="${SIGNED_PROPERTIES_TYPE}" URI="${attr(`#${ids.signedProps}`)}">` +
    `<ds:Transforms>${empty(`ds:Transform Algorithm="${EXC_C14N}"`)}</ds:Transforms>` +
    `${empty(`ds:DigestMethod Algorithm="${SHA256_URI}"`)}<ds:DigestValue>${sha256b64(signedPropertiesC14n)}</ds:DigestValue></ds:Reference>`;
  const signedInfoC14n = `<ds:SignedInfo xmlns:ds="${NS.ds}">${signedInfoBody(withEndTag, c)}</ds:SignedInfo>`;
  const value = (
    await identity.sign(Buffer.from(signedInfoC14n, 'utf8'), {
      digest: alg.digest,
      // XMLDSig 1.1 §6.4.3: an ECDSA SignatureValue is r || s, not the DER SEQUENCE.
      dsaEncoding: 'ieee-p1363',
    })
  ).toString('base64');

  let unsigned = '';
  if (options.tsa) {
    // EN 319 132-1 §5.3: the SignatureTimeStamp covers the canonicalized ds:SignatureValue element.
    const signatureValueC14n = `<ds:SignatureValue xmlns:ds="${NS.ds}" Id="${c(ids.value)}">${value}</ds:SignatureValue>`;
    const digest = createHash('sha256').update(signatureValueC14n, 'utf8').digest();
    const token = await options.tsa.timestamp({ algorithm: 'sha256', digest });
    // B-LT on the spot: the token's genTime is the signing time the CRLs must cover (as sealXml, augmentXmlSeal).
    const longTerm = options.longTerm
      ? validationValuesXml(options.longTerm.certificates, crlsCovering(options.longTerm.crls, token.genTime))
      : '';
    unsigned =
      `<xades:UnsignedProperties><xades:UnsignedSignatureProperties><xades:SignatureTimeStamp Id="${x(ids.timestamp)}">` +
      `${selfClosing(`ds:CanonicalizationMethod Algorithm="${EXC_C14N}"`)}` +
      `<xades:EncapsulatedTimeStamp>${token.der.toString('base64')}</xades:EncapsulatedTimeStamp></xades:SignatureTimeStamp>` +
      `${longTerm}</xades:UnsignedSignatureProperties></xades:UnsignedProperties>`;
  }

  let keyInfo = `<ds:KeyInfo><ds:X509Data><ds:X509Certificate>${signer.base64}</ds:X509Certificate>`;
  for (const cert of identity.chain)
    keyInfo += `<ds:X509Certificate>${certificateText(cert).base64}</ds:X509Certificate>`;
  keyInfo += '</ds:X509Data></ds:KeyInfo>';
  const signature =
    `<ds:Signature xmlns:ds="${NS.ds}" Id="${x(ids.signature)}">` +
    `<ds:SignedInfo>${signedInfoBody(selfClosing, x)}</ds:SignedInfo>` +
    `<ds:SignatureValue Id="${x(ids.value)}">${value}</ds:SignatureValue>${keyInfo}` +
    `<ds:Object><xades:QualifyingProperties xmlns:xades="${NS.xades}" Target="${x(`#${ids.signature}`)}">` +
    `${signedPropertiesXml}${unsigned}</xades:QualifyingProperties></ds:Object></ds:Signature>`;
  return written.xml.slice(0, written.signatureAt) + signature + written.xml.slice(written.signatureAt);
}

/** An element with no content as the serializer writes it; `tag` is its name and attributes. */
const selfClosing = (tag: string): string => `<${tag}/>`;

/** An element with no content as canonical XML writes it. */
const withEndTag = (tag: string): string => `<${tag}></${tag.split(' ', 1)[0]}>`;

/** B-LT validation data as validationValues (xades-augment.ts) builds it, serialized in place. */
function validationValuesXml(certificates: readonly X509Certificate[], crls: readonly Buffer[]): string {
  const list = (name: string, inner: string, values: readonly string[]): string =>
    values.length === 0
      ? `<xades:${name}/>`
      : `<xades:${name}>${values.map((v) => `<xades:${inner}>${v}</xades:${inner}>`).join('')}</xades:${name}>`;
  return (
    list(
      'CertificateValues',
      'EncapsulatedX509Certificate',
      certificates.map((cert) => certificateText(cert).base64),
    ) +
    `<xades:RevocationValues>${list(
      'CRLValues',
      'EncapsulatedCRLValue',
      crls.map(rememberedCrlBase64),
    )}</xades:RevocationValues>`
  );
}

/** What a seal writes of a certificate, computed once per certificate object (the seal identity's, for each seal). */
interface CertificateText {
  readonly base64: string;
  readonly sha256: string;
  readonly issuerSerial: string;
}

const certificateTexts = new WeakMap<X509Certificate, CertificateText>();

function certificateText(cert: X509Certificate): CertificateText {
  let found = certificateTexts.get(cert);
  if (found === undefined) {
    const raw = cert.raw;
    found = {
      base64: raw.toString('base64'),
      sha256: createHash('sha256').update(raw).digest('base64'),
      issuerSerial: issuerSerialV2Der(cert).toString('base64'),
    };
    certificateTexts.set(cert, found);
  }
  return found;
}

function sha256b64(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}
