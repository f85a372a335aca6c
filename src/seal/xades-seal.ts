import { createHash } from 'node:crypto';
import xpath from 'xpath';
import { QerdsError } from '../core/errors.js';
import { asSigner } from '../pki/index.js';
import {
  defaultSignatureAlgorithm,
  keyMatches,
  SHA256_URI,
  signatureAlgorithm,
  type DigestName,
  type SignatureAlgorithm,
} from './algorithms.js';
import { issuerSerialV2Der } from './issuer-serial.js';
import type { XadesSealOptions } from './types.js';
import { crlsCovering, validationValues } from './xades-augment.js';
import {
  el,
  ENVELOPED_SIGNATURE,
  EXC_C14N,
  excC14n,
  isElement,
  NS,
  parseXmlStrict,
  serializeXml,
  SIGNED_PROPERTIES_TYPE,
} from './xml.js';

/**
 * Seal an XML document with an enveloped XAdES baseline signature (ETSI EN 319 132-1): B-B, or B-T when
 * a TSA is given. The signature covers the whole document (Reference URI="" with the enveloped-signature
 * and exclusive C14N transforms) and the SignedProperties (SigningTime, SigningCertificateV2,
 * DataObjectFormat). It is assembled on the one DOM and canonicalized with the one canonicalizer; the
 * signature value comes from the identity's key: node:crypto, or a {@link Signer} such as a PKCS#11 token.
 */
export async function sealXml(
  xml: string,
  options: XadesSealOptions,
  /**
   * `xml` as a DOM the caller already has, used instead of parsing the same text again: a
   * `parseXmlStrict(xml, …)` of it, or a DOM that such a parse gives back node for node (the DOM evidence builder
   * kept as the oracle of sealWrittenXml, test/helpers/evidence-dom-builder.ts, builds one). The seal is assembled
   * in it, so the caller must not use it afterwards.
   */
  parsed?: Document,
): Promise<string> {
  const alg = sealSignatureAlgorithm(options);
  const identity = asSigner(options.identity);
  const doc = parsed ?? parseXmlStrict(xml, 'SEAL_MALFORMED');
  const parent = signatureParent(doc, options.parentXPath);

  const ids = signatureIds(options.idGenerator, (id) => findById(doc, id));

  // Digest of the document as the enveloped-signature transform will see it: before the signature is in.
  const docDigest = sha256b64(excC14n(doc.documentElement));

  const signingTime = new Date(Math.floor(options.clock.now().getTime() / 1000) * 1000);
  const certs = [identity.certificate, ...identity.chain];
  const d = (
    qname: string,
    attrs: Record<string, string | undefined> = {},
    children: Element[] | string = [],
  ) => el(doc, NS.ds, `ds:${qname}`, attrs, children);
  const x = (
    qname: string,
    attrs: Record<string, string | undefined> = {},
    children: Element[] | string = [],
  ) => el(doc, NS.xades, `xades:${qname}`, attrs, children);

  const signedProperties = x('SignedProperties', { Id: ids.signedProps }, [
    x('SignedSignatureProperties', {}, [
      x('SigningTime', {}, signingTime.toISOString().replace('.000Z', 'Z')),
      x('SigningCertificateV2', {}, [
        x('Cert', {}, [
          x('CertDigest', {}, [
            d('DigestMethod', { Algorithm: SHA256_URI }),
            d('DigestValue', {}, createHash('sha256').update(identity.certificate.raw).digest('base64')),
          ]),
          x('IssuerSerialV2', {}, issuerSerialV2Der(identity.certificate).toString('base64')),
        ]),
      ]),
    ]),
    x('SignedDataObjectProperties', {}, [
      x('DataObjectFormat', { ObjectReference: `#${ids.docRef}` }, [x('MimeType', {}, 'text/xml')]),
    ]),
  ]);
  const qualifyingProperties = x(
    'QualifyingProperties',
    { 'xmlns:xades': NS.xades, Target: `#${ids.signature}` },
    [signedProperties],
  );
  const transform = (uri: string) => d('Transform', { Algorithm: uri });
  const signedInfo = d('SignedInfo', {}, [
    d('CanonicalizationMethod', { Algorithm: EXC_C14N }),
    d('SignatureMethod', { Algorithm: alg.uri }),
    d('Reference', { Id: ids.docRef, URI: '' }, [
      d('Transforms', {}, [transform(ENVELOPED_SIGNATURE), transform(EXC_C14N)]),
      d('DigestMethod', { Algorithm: SHA256_URI }),
      d('DigestValue', {}, docDigest),
    ]),
  ]);
  const signatureValue = d('SignatureValue', { Id: ids.value });
  const signature = d('Signature', { 'xmlns:ds': NS.ds, Id: ids.signature }, [
    signedInfo,
    signatureValue,
    d('KeyInfo', {}, [
      d(
        'X509Data',
        {},
        certs.map((c) => d('X509Certificate', {}, c.raw.toString('base64'))),
      ),
    ]),
    d('Object', {}, [qualifyingProperties]),
  ]);
  parent.appendChild(signature);

  // The SignedProperties digest is taken in place (its canonical form does not depend on its context).
  signedInfo.appendChild(
    d('Reference', { Id: ids.propsRef, Type: SIGNED_PROPERTIES_TYPE, URI: `#${ids.signedProps}` }, [
      d('Transforms', {}, [transform(EXC_C14N)]),
      d('DigestMethod', { Algorithm: SHA256_URI }),
      d('DigestValue', {}, sha256b64(excC14n(signedProperties))),
    ]),
  );

  const value = await identity.sign(Buffer.from(excC14n(signedInfo), 'utf8'), {
    digest: alg.digest,
    // XMLDSig 1.1 §6.4.3: an ECDSA SignatureValue is r || s, not the DER SEQUENCE.
    dsaEncoding: 'ieee-p1363',
  });
  signatureValue.appendChild(doc.createTextNode(value.toString('base64')));

  if (options.tsa) {
    // EN 319 132-1 §5.3: the SignatureTimeStamp covers the canonicalized ds:SignatureValue element.
    const digest = createHash('sha256').update(excC14n(signatureValue), 'utf8').digest();
    const token = await options.tsa.timestamp({ algorithm: 'sha256', digest });
    // B-LT on the spot: the token's genTime is the signing time the CRLs must cover (as in augmentXmlSeal).
    const longTerm = options.longTerm
      ? validationValues(
          doc,
          options.longTerm.certificates,
          crlsCovering(options.longTerm.crls, token.genTime),
        )
      : [];
    qualifyingProperties.appendChild(
      x('UnsignedProperties', {}, [
        x('UnsignedSignatureProperties', {}, [
          x('SignatureTimeStamp', { Id: ids.timestamp }, [
            d('CanonicalizationMethod', { Algorithm: EXC_C14N }),
            x('EncapsulatedTimeStamp', {}, token.der.toString('base64')),
          ]),
          ...longTerm,
        ]),
      ]),
    );
  } else if (options.longTerm) {
    throw new QerdsError('SEAL_AUGMENT_NOT_B_T', 'B-LT needs a SignatureTimeStamp: give a TSA');
  }
  return serializeXml(doc);
}

/**
 * The signature algorithm a seal with `options` uses (given, or the key's default), SEAL_KEY_MISMATCH when it does not
 * fit the seal certificate's key or digests with SHA-1. The certificate's public key tells the key type wherever the
 * private key is (a PKCS#11 token, a remote signer).
 */
export function sealSignatureAlgorithm(
  options: XadesSealOptions,
): SignatureAlgorithm & { readonly digest: Exclude<DigestName, 'sha1'> } {
  const publicKey = options.identity.certificate.publicKey;
  const algUri = options.signatureAlgorithm ?? defaultSignatureAlgorithm(publicKey);
  const alg = signatureAlgorithm(algUri);
  if (!keyMatches(alg, publicKey) || alg.digest === 'sha1') {
    throw new QerdsError(
      'SEAL_KEY_MISMATCH',
      `${algUri} needs a ${alg.keyType} key, got ${publicKey.asymmetricKeyType}`,
    );
  }
  return { ...alg, digest: alg.digest };
}

/**
 * The Ids of a new seal's parts, from the generator's next id; SEAL_DUPLICATE_ID when the document already has one
 * (`taken`): a reference by Id must name one element.
 */
export function signatureIds(idGenerator: XadesSealOptions['idGenerator'], taken: (id: string) => boolean) {
  const sigId = idGenerator.next('sig');
  const ids = {
    signature: sigId,
    docRef: `${sigId}-ref-doc`,
    propsRef: `${sigId}-ref-props`,
    signedProps: `${sigId}-signedprops`,
    value: `${sigId}-value`,
    timestamp: `${sigId}-sigts`,
  };
  for (const id of Object.values(ids))
    if (taken(id))
      throw new QerdsError('SEAL_DUPLICATE_ID', `the document already has an element with Id ${id}`);
  return ids;
}

function signatureParent(doc: Document, parentXPath: string | undefined): Element {
  if (!parentXPath) return doc.documentElement;
  const found = xpath.select1(parentXPath, doc as unknown as Node);
  if (!isElement(found as Node | undefined)) {
    throw new QerdsError('SEAL_PARENT_NOT_FOUND', `no element at ${parentXPath}`);
  }
  return found as Element;
}

function sha256b64(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

function findById(doc: Document, id: string): boolean {
  const walk = (node: Node): boolean => {
    for (let n = node.firstChild; n; n = n.nextSibling) {
      if (!isElement(n)) continue;
      if (['Id', 'ID', 'id'].some((a) => n.getAttribute(a) === id)) return true;
      if (walk(n)) return true;
    }
    return false;
  };
  return walk(doc);
}
