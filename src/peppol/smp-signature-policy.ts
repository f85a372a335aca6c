import { QerdsError } from '../core/errors.js';
import { ALGORITHM_URI, childElements, parseXmlStrict, PEPPOL_SMP1_NS, XML_NS } from '../xml/index.js';

export { PEPPOL_SMP1_NS };

/**
 * Which XMLDSig algorithms an SMP response may be signed with. Peppol SMP 1.x responses were signed with RSA-SHA1
 * and SHA-1 digests until Peppol SMP specification 1.3.0 moved them to RSA-SHA256 / SHA-256 (migration deadline
 * mid-2024: Peppol's "SMP 1.3.0 Impact Analysis", as quoted in digdir/roadmap#326 and phax/phoss-smp#284; the
 * specification itself is not among the stored sources). An SMP that has not migrated still answers with SHA-1.
 *
 * The switch `allowRsaSha1` admits those answers, and only them: a Peppol SMP 1.x `SignedServiceMetadata` (BusDox
 * namespace). Nothing else in qerds-ap accepts SHA-1 — not AS4, not OASIS SMP 1.0/2.0, not evidence or seals.
 * Threat of turning it on: SHA-1 collisions are practical (SHAttered, 2017), so an attacker who gets an SMP to sign
 * one document may present another with the same digest; the switch is off by default and meant for the transition.
 */
export interface SmpSignaturePolicy {
  /** Accept RSA-SHA1 signatures and SHA-1 digests on Peppol SMP 1.x responses. @defaultValue false */
  readonly allowRsaSha1?: boolean;
}

const DS = XML_NS.ds;

export const SMP_SIGNATURE_METHODS = Object.freeze({
  rsaSha1: ALGORITHM_URI.rsaSha1,
  rsaSha256: ALGORITHM_URI.rsaSha256,
  rsaSha512: ALGORITHM_URI.rsaSha512,
  ecdsaSha256: ALGORITHM_URI.ecdsaSha256,
  ecdsaSha384: ALGORITHM_URI.ecdsaSha384,
  ecdsaSha512: ALGORITHM_URI.ecdsaSha512,
});
export const SMP_DIGEST_METHODS = Object.freeze({
  sha1: ALGORITHM_URI.sha1,
  sha256: ALGORITHM_URI.sha256,
  sha512: ALGORITHM_URI.sha512,
});

/** The algorithm URIs a verifier may accept for one SMP response, by its dialect and the policy. */
export function smpSignatureAlgorithms(
  dialect: 'peppol-smp1' | 'other',
  policy: SmpSignaturePolicy = {},
): { signature: readonly string[]; digest: readonly string[] } {
  const legacy = dialect === 'peppol-smp1' && policy.allowRsaSha1 === true;
  const { rsaSha1, ...modern } = SMP_SIGNATURE_METHODS;
  const { sha1, ...modernDigests } = SMP_DIGEST_METHODS;
  return {
    signature: [...(legacy ? [rsaSha1] : []), ...Object.values(modern)],
    digest: [...(legacy ? [sha1] : []), ...Object.values(modernDigests)],
  };
}

export interface SmpSignatureAlgorithmCheck {
  readonly dialect: 'peppol-smp1' | 'other';
  readonly signatureMethod: string;
  readonly digestMethods: readonly string[];
  /** SHA-1 was used and admitted by the switch: log it, count it, ask the SMP to migrate. */
  readonly legacySha1: boolean;
}

/**
 * Read the SignatureMethod and DigestMethods of an SMP response and hold them against the policy, before (and in
 * addition to) cryptographic verification. Refusal: QerdsError PEPPOL_SMP_SIGNATURE_ALGORITHM naming the algorithm.
 */
export function checkSmpSignatureAlgorithms(
  xml: string,
  policy: SmpSignaturePolicy = {},
): SmpSignatureAlgorithmCheck {
  const doc = parseXmlStrict(xml, 'PEPPOL_SMP_SIGNATURE_ALGORITHM', { what: 'SMP response' });
  const root = doc.documentElement;
  const dialect =
    root.namespaceURI === PEPPOL_SMP1_NS && root.localName === 'SignedServiceMetadata'
      ? 'peppol-smp1'
      : 'other';
  const signatures = childElements(root, DS, 'Signature');
  if (signatures.length !== 1)
    throw new QerdsError(
      'PEPPOL_SMP_SIGNATURE_ALGORITHM',
      `expected one enveloped ds:Signature, found ${signatures.length}`,
    );
  const signedInfo = childElements(signatures[0]!, DS, 'SignedInfo')[0];
  const signatureMethod =
    (signedInfo && childElements(signedInfo, DS, 'SignatureMethod')[0]?.getAttribute('Algorithm')) ?? '';
  const digestMethods = (signedInfo ? childElements(signedInfo, DS, 'Reference') : []).map(
    (r) => childElements(r, DS, 'DigestMethod')[0]?.getAttribute('Algorithm') ?? '',
  );
  const allowed = smpSignatureAlgorithms(dialect, policy);
  const refuse = (what: string, uri: string): never => {
    const hint =
      dialect === 'peppol-smp1' && (uri === SMP_SIGNATURE_METHODS.rsaSha1 || uri === SMP_DIGEST_METHODS.sha1)
        ? ' (a Peppol SMP before 1.3.0: see allowRsaSha1)'
        : '';
    throw new QerdsError(
      'PEPPOL_SMP_SIGNATURE_ALGORITHM',
      `${what} ${uri || 'missing'} is not accepted for this SMP response${hint}`,
      { details: { dialect, algorithm: uri } },
    );
  };
  if (!allowed.signature.includes(signatureMethod)) refuse('SignatureMethod', signatureMethod);
  if (digestMethods.length === 0) refuse('DigestMethod', '');
  for (const d of digestMethods) if (!allowed.digest.includes(d)) refuse('DigestMethod', d);
  const legacySha1 =
    signatureMethod === SMP_SIGNATURE_METHODS.rsaSha1 || digestMethods.includes(SMP_DIGEST_METHODS.sha1);
  return { dialect, signatureMethod, digestMethods, legacySha1 };
}

/**
 * The policy as the directory's SMP signature rules (directory/types.ts `SmpSignatureRules`, matched by shape:
 * this module does not import the directory). Dialect `peppol` is a Peppol SMP 1.x (BusDox) response; SHA-1 is
 * admitted for it only with `allowRsaSha1`. A Peppol SMP signs with its certificate from the OpenPEPPOL SMP CA; the
 * G2 ones in the public test material (phax/peppol-commons, test/fixtures/smp/) carry clientAuth as their only,
 * critical extended key usage, so the role check admits TLS-only signers for that dialect alone, the trust anchors
 * (directory.smp.trust: the Peppol SMP CA) being what limits who may sign.
 */
export function peppolSmpSignatureRules(policy: SmpSignaturePolicy = {}): {
  algorithms(dialect: string): { signature: readonly string[]; digest: readonly string[] };
  tlsEkuSigners(dialect: string): boolean;
} {
  return Object.freeze({
    algorithms: (dialect: string) =>
      smpSignatureAlgorithms(dialect === 'peppol' ? 'peppol-smp1' : 'other', policy),
    tlsEkuSigners: (dialect: string) => dialect === 'peppol',
  });
}
