import { createHash, timingSafeEqual, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { QerdsError } from '../core/index.js';
import { xmlDigestAlgorithm, xmlSignatureAlgorithm } from '../crypto/index.js';
import { certificateFrom, checkCertificateRole, type Finding, type TrustStore } from '../pki/index.js';
import {
  ALGORITHM_URI,
  C14N,
  c14nMethodOf,
  canonicalize,
  canonicalizeInclusive,
  canonicalizeSubtree,
  ENVELOPED_SIGNATURE as ENVELOPED,
  EXC_C14N,
} from '../xml/index.js';
import { SMP_NS } from './smp-metadata.js';
import { child, children, descendants, DS_NS, parseSmpXml, text } from './smp-xml.js';
import type { SmpResponseDialect, SmpSignatureAlgorithms, SmpSignatureRules } from './types.js';

const {
  rsaSha1: RSA_SHA1,
  sha1: SHA1,
  sha256: SHA256,
  sha512: SHA512,
  rsaSha256: RSA_SHA256,
  rsaSha512: RSA_SHA512,
  ecdsaSha256: ECDSA_SHA256,
  ecdsaSha384: ECDSA_SHA384,
  ecdsaSha512: ECDSA_SHA512,
} = ALGORITHM_URI;

/** The directory's default: RSA-SHA256/512, ECDSA-SHA256/384/512, SHA-256/512 digests; no SHA-1, no TLS-only signer. */
export const STRICT_SMP_SIGNATURE_RULES: SmpSignatureRules = Object.freeze({
  algorithms: (): SmpSignatureAlgorithms => ({
    signature: [RSA_SHA256, RSA_SHA512, ECDSA_SHA256, ECDSA_SHA384, ECDSA_SHA512],
    digest: [SHA256, SHA512],
  }),
  tlsEkuSigners: () => false,
});

/** The dialect by the document element: Peppol's BusDox SignedServiceMetadata, SMP 2.0, else OASIS SMP 1.0 (the strictest reading). */
function dialectOf(root: Element): SmpResponseDialect {
  if (root.namespaceURI === SMP_NS.peppol && root.localName === 'SignedServiceMetadata') return 'peppol';
  if (root.namespaceURI === SMP_NS.smp2) return 'smp2';
  return 'smp1';
}

/** What a verified SMP signature vouches for. */
export interface SmpSignatureCheck {
  /** The document as the signature covers it (canonical form of URI="", without the signature): read only this. */
  readonly signedDocument: Document;
  /** The SMP's signing certificate. */
  readonly signer: X509Certificate;
  /** Findings of the signer's path validation (revocation not checked, …). */
  readonly findings: readonly Finding[];
  /** The response was signed with RSA-SHA1 or a SHA-1 digest, admitted by the rules (Peppol SMP 1.x only): ask the SMP to migrate. */
  readonly legacySha1: boolean;
}

/**
 * Verify the enveloped XMLDSig signature of an SMP response (SMP 1.0 §3.6.2, Peppol SMP 1.x §3.4, SMP 2.0 §6.2):
 * exactly one ds:Signature, a child of the document element, with one Reference URI="" (the whole document)
 * whose transforms are the enveloped-signature one then at most one C14N 1.0 or exclusive C14N, and SignedInfo
 * canonicalized by one of those two; SignatureMethod and DigestMethods among those `rules`
 * accept for the response's dialect (default `STRICT_SMP_SIGNATURE_RULES`: RSA-SHA256/512 or ECDSA-SHA256/384/512,
 * SHA-256/512 digests; SHA-1 only ever for a Peppol SMP 1.x response, and only when the rules admit it); the
 * signer's certificate from KeyInfo/X509Data must chain to `trust` at `at` and be fit to sign SMP metadata.
 * Verified on the one DOM parseSmpXml reads (XML 1.0: U+0085 and U+2028 are characters, as for the SMP's signer),
 * with xml/'s canonicalizers and node:crypto; the document is not parsed a second time by another reader.
 *
 * Threat: a forged or altered SMP answer redirects a recipient's messages to an attacker's access point
 * (and hands the sender the attacker's certificate to encrypt for). Callers read the endpoint only from
 * `signedDocument`, the bytes the signature covers, never from the document as received (signature wrapping).
 */
export function verifySmpSignature(
  xml: string,
  trust: TrustStore,
  at: Date,
  rules: SmpSignatureRules = STRICT_SMP_SIGNATURE_RULES,
): SmpSignatureCheck {
  const doc = parseSmpXml(xml);
  const root = doc.documentElement!;
  const dialect = dialectOf(root);
  const signatures = descendants(doc, DS_NS, 'Signature');
  if (signatures.length === 0) throw invalid('the SMP response is not signed');
  if (signatures.length > 1)
    throw invalid('the SMP response carries more than one signature (wrapping refused)');
  const signature = signatures[0]!;
  if (signature.parentNode !== root) throw invalid('the signature is not enveloped in the document element');

  const signedInfos = children(signature, [DS_NS], 'SignedInfo');
  if (signedInfos.length !== 1) throw invalid('the signature must have exactly one SignedInfo');
  const signedInfo = signedInfos[0]!;
  const references = children(signedInfo, [DS_NS], 'Reference');
  if (references.length !== 1 || references[0]!.getAttribute('URI') !== '') {
    throw invalid('the signature must have exactly one Reference, to the whole document (URI="")');
  }
  const transformElements = children(
    child(references[0]!, [DS_NS], 'Transforms') ?? references[0]!,
    [DS_NS],
    'Transform',
  );
  const transforms = transformElements.map((t) => t.getAttribute('Algorithm') ?? '');
  if (
    !transforms.includes(ENVELOPED) ||
    transforms.some((t) => t !== ENVELOPED && t !== C14N && t !== EXC_C14N)
  ) {
    // XPath, XSLT, base64…: transforms that let the signed bytes differ from the document a reader sees.
    throw invalid(`unsupported transforms: ${transforms.join(', ') || 'none'}`);
  }
  // The shape every SMP signs with (SMP 1.0 §3.6.2, SMP 2.0 §6.2, Peppol SMP 1.x): the document without its
  // signature, canonicalized once (inclusive C14N 1.0 when no C14N transform follows: XMLDSig §4.4.3.2).
  const referenceC14n =
    transforms[0] === ENVELOPED && transforms.length <= 2
      ? transformElements[1]
        ? canonicalizationOf(transformElements[1])
        : INCLUSIVE
      : undefined;
  if (!referenceC14n) {
    throw invalid(
      `unsupported transforms: ${transforms.join(', ')} (the enveloped-signature transform, then at most one C14N or exclusive C14N)`,
    );
  }
  const allowed = acceptedAlgorithms(rules, dialect);
  const signatureMethod = child(signedInfo, [DS_NS], 'SignatureMethod')?.getAttribute('Algorithm') ?? '';
  const digestMethod = child(references[0]!, [DS_NS], 'DigestMethod')?.getAttribute('Algorithm') ?? '';
  if (!allowed.signature.includes(signatureMethod))
    throw refusedAlgorithm('SignatureMethod', signatureMethod, dialect);
  if (!allowed.digest.includes(digestMethod)) throw refusedAlgorithm('DigestMethod', digestMethod, dialect);

  const certificates = children(
    child(child(signature, [DS_NS], 'KeyInfo') ?? signature, [DS_NS], 'X509Data') ?? signature,
    [DS_NS],
    'X509Certificate',
  )
    .map((e) => text(e))
    .filter((b64): b64 is string => b64 !== undefined)
    .map((b64) => {
      try {
        return certificateFrom(Buffer.from(b64.replace(/\s+/g, ''), 'base64'));
      } catch (cause) {
        throw new QerdsError(
          'DIRECTORY_SMP_SIGNATURE_INVALID',
          'KeyInfo holds a certificate that cannot be read',
          { cause },
        );
      }
    });
  const signer = certificates[0];
  if (!signer) throw invalid('the signature names no signing certificate (KeyInfo/X509Data/X509Certificate)');

  const signedOctets = verifiedReference({
    signature,
    signedInfo,
    reference: references[0]!,
    referenceC14n,
    digestMethod,
    signatureMethod,
    signer,
  });

  const path = trust.validate(signer, { at, intermediates: certificates.slice(1) });
  const subject = signer.subject.replace(/\n/g, ', ');
  if (!path.valid) {
    throw new QerdsError(
      'DIRECTORY_SMP_SIGNATURE_UNTRUSTED',
      `the SMP response is signed by ${subject}, which does not chain to a trusted anchor: ${path.findings
        .filter((f) => f.severity === 'error')
        .map((f) => f.code)
        .join(', ')}`,
      { details: { signer: subject, findings: path.findings } },
    );
  }
  // Threat: a TSA, TLS or encryption-only key under the same anchors publishing endpoints (certificate-roles.ts).
  const role = checkCertificateRole(signer, 'smp-signer', { tlsEkuSigners: rules.tlsEkuSigners(dialect) });
  if (role.length > 0) {
    throw new QerdsError(
      'DIRECTORY_SMP_SIGNER_ROLE',
      `the SMP response is signed by a certificate of another role: ${role.map((f) => f.message).join('; ')}`,
      {
        details: { signer: subject, findings: role },
      },
    );
  }
  return {
    signedDocument: parseSmpXml(signedOctets),
    signer,
    findings: path.findings,
    legacySha1: signatureMethod === RSA_SHA1 || digestMethod === SHA1,
  };
}

/**
 * The cryptographic check, on the one parsed DOM: SignedInfo canonicalized by its CanonicalizationMethod (C14N 1.0 or
 * exclusive C14N 1.0 only), the Reference's digest recomputed over the document without the signature, and the
 * SignatureValue verified with the signer's key. Returns the octets the digest covered: the document as signed.
 */
function verifiedReference(s: {
  readonly signature: Element;
  readonly signedInfo: Element;
  readonly reference: Element;
  readonly referenceC14n: Canonicalization;
  readonly digestMethod: string;
  readonly signatureMethod: string;
  readonly signer: X509Certificate;
}): string {
  const methodElement = child(s.signedInfo, [DS_NS], 'CanonicalizationMethod');
  const method = methodElement && canonicalizationOf(methodElement);
  if (!method) {
    throw invalid(
      `the SignedInfo canonicalization ${methodElement?.getAttribute('Algorithm') || '(none)'} is not accepted (C14N 1.0 or exclusive C14N 1.0, without comments)`,
    );
  }
  const digestValues = children(s.reference, [DS_NS], 'DigestValue');
  const signatureValues = children(s.signature, [DS_NS], 'SignatureValue');
  if (digestValues.length !== 1 || signatureValues.length !== 1)
    throw invalid('the signature must have one DigestValue in its Reference and one SignatureValue');

  // SignedInfo first, in place: inclusive C14N outputs the namespaces it inherits from the document element.
  const signedInfoOctets = method.exclusive
    ? canonicalize(s.signedInfo, method.prefixes)
    : canonicalizeSubtree(s.signedInfo, C14N_10);
  const signedOctets = documentWithout(s.signature, s.referenceC14n);
  const digest = createHash(xmlDigestAlgorithm(s.digestMethod)!.hash!).update(signedOctets, 'utf8').digest();
  const expected = base64(digestValues[0]!);
  let valid = digest.length === expected.length && timingSafeEqual(digest, expected);
  if (valid) {
    try {
      valid = signatureValueVerifies(
        s.signatureMethod,
        s.signer,
        Buffer.from(signedInfoOctets, 'utf8'),
        base64(signatureValues[0]!),
      );
    } catch (cause) {
      throw new QerdsError(
        'DIRECTORY_SMP_SIGNATURE_INVALID',
        `the SMP signature does not verify: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
  if (!valid)
    throw invalid('the SMP signature does not verify (the response was altered or signed with another key)');
  return signedOctets;
}

const KNOWN_SIGNATURES = new Set<string>([
  RSA_SHA1,
  RSA_SHA256,
  RSA_SHA512,
  ECDSA_SHA256,
  ECDSA_SHA384,
  ECDSA_SHA512,
]);
const KNOWN_DIGESTS = new Set<string>([SHA1, SHA256, SHA512]);

/** A canonicalization a Transform or CanonicalizationMethod names: C14N 1.0 or exclusive C14N 1.0, without comments. */
interface Canonicalization {
  readonly exclusive: boolean;
  /** Exclusive C14N's InclusiveNamespaces PrefixList (`#default` for the default namespace). */
  readonly prefixes: readonly string[];
}

const INCLUSIVE: Canonicalization = { exclusive: false, prefixes: [] };
const C14N_10 = c14nMethodOf(C14N)!;

function canonicalizationOf(element: Element): Canonicalization | undefined {
  const uri = element.getAttribute('Algorithm');
  if (uri === C14N) return INCLUSIVE;
  if (uri !== EXC_C14N) return undefined;
  const prefixes = children(element, [EXC_C14N], 'InclusiveNamespaces').flatMap((e) =>
    (e.getAttribute('PrefixList') ?? '').split(/[ \t\r\n]+/).filter((p) => p !== ''),
  );
  return { exclusive: true, prefixes };
}

/**
 * What Reference URI="" digests: the document without `signature` (enveloped-signature transform), canonicalized.
 * The document element stands for the document: a same-document URI leaves comments out, and processing
 * instructions are refused by parseSmpXml, so nothing outside it is output. The signature is taken out of the one
 * parsed DOM and put back right after (synchronously, in a finally): what a parse of the document without it would
 * canonicalize, with XML 1.0's line ends (xml/well-formed.ts), not a second parse by another reader.
 */
function documentWithout(signature: Element, c14n: Canonicalization): string {
  const root = signature.parentNode as Element;
  const next = signature.nextSibling;
  root.removeChild(signature);
  try {
    return c14n.exclusive ? canonicalize(root, c14n.prefixes) : canonicalizeInclusive(root);
  } finally {
    root.insertBefore(signature, next);
  }
}

/**
 * The SignatureValue over the canonical SignedInfo, by node:crypto: RSA PKCS#1 v1.5, or ECDSA whose XMLDSig value
 * is r || s (RFC 4051 §3.3, XMLDSig 1.1 §6.4.3), not DER. A key of another type than the algorithm's does not verify.
 */
function signatureValueVerifies(uri: string, signer: X509Certificate, data: Buffer, value: Buffer): boolean {
  const algorithm = xmlSignatureAlgorithm(uri)!;
  const key = signer.publicKey;
  if (key.asymmetricKeyType !== algorithm.keyType) return false;
  return cryptoVerify(
    algorithm.hash ?? null,
    data,
    algorithm.keyType === 'ec' ? { key, dsaEncoding: 'ieee-p1363' } : key,
    value,
  );
}

function base64(element: Element): Buffer {
  return Buffer.from((element.textContent ?? '').replace(/\s+/g, ''), 'base64');
}

/**
 * The rules' algorithms, narrowed to those implemented here, and without SHA-1 outside Peppol SMP 1.x: whatever a
 * policy says, an OASIS SMP 1.0/2.0 response signed with SHA-1 is refused (SHA-1 collisions are practical since
 * SHAttered, 2017; only the Peppol network still had SMPs signing with it, see peppol/smp-signature-policy.ts).
 */
function acceptedAlgorithms(rules: SmpSignatureRules, dialect: SmpResponseDialect): SmpSignatureAlgorithms {
  const { signature, digest } = rules.algorithms(dialect);
  const sha1Allowed = dialect === 'peppol';
  return {
    signature: signature.filter((uri) => KNOWN_SIGNATURES.has(uri) && (sha1Allowed || uri !== RSA_SHA1)),
    digest: digest.filter((uri) => KNOWN_DIGESTS.has(uri) && (sha1Allowed || uri !== SHA1)),
  };
}

function refusedAlgorithm(what: string, uri: string, dialect: SmpResponseDialect): QerdsError {
  const sha1 = uri === RSA_SHA1 || uri === SHA1;
  const hint = !sha1
    ? ''
    : dialect === 'peppol'
      ? ' (a Peppol SMP before SMP 1.3.0: accepted only with directory.smp.allowRsaSha1)'
      : ' (SHA-1 is never accepted outside Peppol SMP 1.x)';
  return new QerdsError(
    'DIRECTORY_SMP_SIGNATURE_ALGORITHM',
    `the SMP response is signed with ${what} ${uri || '(none)'}, which is not accepted for a ${dialect} response${hint}`,
    {
      details: { dialect, algorithm: uri },
    },
  );
}

function invalid(message: string): QerdsError {
  return new QerdsError('DIRECTORY_SMP_SIGNATURE_INVALID', message);
}
