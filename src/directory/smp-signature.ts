import { createPublicKey, X509Certificate, verify as cryptoVerify, type KeyLike } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { QerdsError } from '../core/index.js';
import { checkCertificateRole, type Finding, type TrustStore } from '../pki/index.js';
import {
  ALGORITHM_URI,
  C14N,
  ENVELOPED_SIGNATURE as ENVELOPED,
  EXC_C14N,
  ExclusiveC14n,
  InclusiveC14n,
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

/** XMLDSig ECDSA: the SignatureValue is r || s (RFC 4050 / XMLDSig 1.1 §6.4.3), not DER. */
function ecdsa(uri: string, hash: string) {
  return class {
    getSignature(): string {
      throw new Error('verification only');
    }
    verifySignature(material: string, key: KeyLike, signatureValue: string): boolean {
      return cryptoVerify(
        hash,
        Buffer.from(material),
        { key: createPublicKey(key), dsaEncoding: 'ieee-p1363' },
        Buffer.from(signatureValue, 'base64'),
      );
    }
    getAlgorithmName(): string {
      return uri;
    }
  };
}

/**
 * Verify the enveloped XMLDSig signature of an SMP response (SMP 1.0 §3.6.2, Peppol SMP 1.x §3.4, SMP 2.0 §6.2):
 * exactly one ds:Signature, a child of the document element, with one Reference URI="" (the whole document)
 * and only the enveloped-signature and C14N transforms; SignatureMethod and DigestMethods among those `rules`
 * accept for the response's dialect (default `STRICT_SMP_SIGNATURE_RULES`: RSA-SHA256/512 or ECDSA-SHA256/384/512,
 * SHA-256/512 digests; SHA-1 only ever for a Peppol SMP 1.x response, and only when the rules admit it); the
 * signer's certificate from KeyInfo/X509Data must chain to `trust` at `at` and be fit to sign SMP metadata.
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

  const signedInfo = child(signature, [DS_NS], 'SignedInfo');
  const references = signedInfo ? children(signedInfo, [DS_NS], 'Reference') : [];
  if (references.length !== 1 || references[0]!.getAttribute('URI') !== '') {
    throw invalid('the signature must have exactly one Reference, to the whole document (URI="")');
  }
  const transforms = children(
    child(references[0]!, [DS_NS], 'Transforms') ?? references[0]!,
    [DS_NS],
    'Transform',
  ).map((t) => t.getAttribute('Algorithm') ?? '');
  if (
    !transforms.includes(ENVELOPED) ||
    transforms.some((t) => t !== ENVELOPED && t !== C14N && t !== EXC_C14N)
  ) {
    // XPath, XSLT, base64…: transforms that let the signed bytes differ from the document a reader sees.
    throw invalid(`unsupported transforms: ${transforms.join(', ') || 'none'}`);
  }
  const allowed = acceptedAlgorithms(rules, dialect);
  const signatureMethod = child(signedInfo!, [DS_NS], 'SignatureMethod')?.getAttribute('Algorithm') ?? '';
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
        return new X509Certificate(Buffer.from(b64.replace(/\s+/g, ''), 'base64'));
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

  const verifier = new SignedXml({ publicCert: signer.toString(), getCertFromKeyInfo: () => null });
  verifier.CanonicalizationAlgorithms = {
    [C14N]: InclusiveC14n,
    [EXC_C14N]: ExclusiveC14n,
    [ENVELOPED]: verifier.CanonicalizationAlgorithms[ENVELOPED]!,
  };
  // Only the accepted algorithms are registered: xml-crypto then cannot be steered to another one by the document.
  verifier.HashAlgorithms = Object.fromEntries(
    allowed.digest.map((uri) => [uri, verifier.HashAlgorithms[uri]!]),
  );
  verifier.SignatureAlgorithms = Object.fromEntries(
    allowed.signature.map((uri) => [
      uri,
      SIGNATURE_IMPLEMENTATIONS[uri] ?? verifier.SignatureAlgorithms[uri]!,
    ]),
  );
  let valid: boolean;
  try {
    verifier.loadSignature(signature);
    valid = verifier.checkSignature(xml);
  } catch (cause) {
    throw new QerdsError(
      'DIRECTORY_SMP_SIGNATURE_INVALID',
      `the SMP signature does not verify: ${(cause as Error).message}`,
      { cause },
    );
  }
  const signed = verifier.getSignedReferences();
  if (!valid || signed.length !== 1)
    throw invalid('the SMP signature does not verify (the response was altered or signed with another key)');

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
    signedDocument: parseSmpXml(signed[0]!),
    signer,
    findings: path.findings,
    legacySha1: signatureMethod === RSA_SHA1 || digestMethod === SHA1,
  };
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
/** xml-crypto's ECDSA expects DER; XMLDSig carries r || s. */
const SIGNATURE_IMPLEMENTATIONS: Readonly<Record<string, ReturnType<typeof ecdsa>>> = {
  [ECDSA_SHA256]: ecdsa(ECDSA_SHA256, 'sha256'),
  [ECDSA_SHA384]: ecdsa(ECDSA_SHA384, 'sha384'),
  [ECDSA_SHA512]: ecdsa(ECDSA_SHA512, 'sha512'),
};

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
