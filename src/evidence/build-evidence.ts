import type { EvidenceData, Identification, ParticipantDetails } from '../core/index.js';
import { eventUri, formatParticipantId, loaUri, QerdsError, reasonUri } from '../core/index.js';
import type { WrittenXml } from '../seal/index.js';
import { canonicalAttributeEscape, canonicalTextEscape, serializedAttributeValue } from '../xml/index.js';
import { checkEventComponents } from './event-reasons.js';
import {
  DS_NS,
  EIDAS_LEGAL_NAME,
  EIDAS_LEGAL_PERSON_IDENTIFIER,
  EVIDENCE_NS,
  EVIDENCE_PREFIX,
  EVIDENCE_VERSION,
  evidenceNamespaceOf,
  QERDS_EXT_NS,
  SAML_ATTR_NAME_FORMAT_URI,
  SAML_NS,
  SHA256_URI,
} from './names.js';

/**
 * Build the EN 319 522-3 XML of one evidence (not sealed). Children of `Evidence` come in the order of
 * the standard's sequence (see EVIDENCE_ELEMENT_ORDER); optional ones are left out when the data has
 * nothing for them. No indentation, so that what is sealed is exactly what a reader parses.
 *
 * The standard's form (`elementFormDefault="unqualified"`): the schema's global elements are written
 * `ev:Name` in EVIDENCE_NS, every local element (`EventTime`, `Code`, `Identifier`…) with no namespace,
 * and no default namespace is ever declared, which would pull the local elements into it
 * (EVIDENCE_GLOBAL_ELEMENTS). saml:, ds: and extension content keep their own namespaces.
 */
export function buildEvidenceXml(data: EvidenceData): string {
  return writeEvidence(data).xml;
}

/**
 * buildEvidenceXml, written as text (no DOM), with what an enveloped seal needs without parsing it (WrittenXml:
 * sealWrittenXml): the document element's Exclusive C14N form, where the signature goes, the Id values.
 *
 * Two texts are written side by side, element by element:
 * - `xml`, the document, byte for byte what the DOM builder this replaces serialized (xmldom's XMLSerializer: the
 *   root declares saml, ds when parts use it, and ev after its attributes; each qx: element declares qx after its
 *   attributes; attributes in the order set; an element without content as `<a/>`; text escapes `<`, `&`, `>`,
 *   attribute values also `"`, TAB, LF, CR as `&#9;`, `&#10;`, `&#13;`).
 * - `canonical`, Exclusive C14N of the document element as a strict parse of `xml` gives it: the root declares
 *   ev only (the only prefix it uses); each saml:Attribute declares saml, each ds: element ds, each qx: element qx
 *   (no output ancestor declares them); attributes sorted by name; `<a></a>`; canonical escaping.
 * Text goes through CR normalization first (XML 1.0 reads CR and CR LF as LF; write LF so that the sealed text is
 * the text read back), after which the two escapings of text agree. U+0085 and U+2028 are ordinary characters in
 * XML 1.0 (line ends only in XML 1.1) and are written as they are: our reader reads them back as they are
 * (xml/well-formed.ts; it did not, and a value holding one made evidence its own verifier refused). No comment, PI
 * or CDATA is written, and names
 * are this module's constants. What construction does not rule out is a character XML 1.0 cannot hold: the
 * caller checks the text (issueEvidence). test/evidence/written-seal-oracle.test.ts checks `xml` against the DOM
 * builder and `canonical` and `ids` against a parse, on generated hostile data.
 */
export function writeEvidence(data: EvidenceData): WrittenXml {
  validate(data);
  const id = xmlId(data.id);
  const withParts = data.parts.length > 0;
  let x =
    `<?xml version="1.0" encoding="UTF-8"?>\n<${ROOT} xmlns:saml="${SAML_NS}"` +
    `${withParts ? ` xmlns:ds="${DS_NS}"` : ''} version="${serializedAttributeValue(EVIDENCE_VERSION)}" ` +
    `Id="${serializedAttributeValue(id)}" xmlns:ev="${EVIDENCE_NS}">`;
  let c =
    `<${ROOT} xmlns:ev="${EVIDENCE_NS}" Id="${canonicalAttributeEscape(id)}" ` +
    `version="${canonicalAttributeEscape(EVIDENCE_VERSION)}">`;
  /** Markup and text that both forms write alike. */
  const both = (s: string): void => {
    x += s;
    c += s;
  };
  /** An element holding text (the same in both forms: no attribute, no declaration). */
  const leaf = (name: string, value: string): void => {
    const tag = tagOf(name);
    both(`<${tag}>${textOf(value)}</${tag}>`);
  };
  const open = (name: string): void => both(`<${tagOf(name)}>`);
  const close = (name: string): void => both(`</${tagOf(name)}>`);

  const samlAttribute = (attribute: SamlAttributeTags, value: string): void => {
    x += attribute.xml;
    c += attribute.canonical;
    both(`<saml:AttributeValue>${textOf(value)}</saml:AttributeValue></saml:Attribute>`);
  };
  // eIDAS legal-person attributes. We write LegalPersonIdentifier as "<scheme>:<value>" (our participant
  // id form); the eIDAS "CC/CC/id" form needs a country we do not know for every scheme.
  const identity = (name: string | undefined, participantId: string): void => {
    open('Identity');
    if (name !== undefined) samlAttribute(LEGAL_NAME, name);
    samlAttribute(LEGAL_PERSON_IDENTIFIER, participantId);
    close('Identity');
  };
  const userDetails = (name: string, p: ParticipantDetails): void => {
    open(name);
    identity(p.name, formatParticipantId(p.id));
    // IdentifierSchemeName: the scheme code as given (ISO 6523 ICD such as 0188, or `email`).
    x += `<Identifier IdentifierSchemeName="${serializedAttributeValue(p.id.scheme)}">`;
    c += `<Identifier IdentifierSchemeName="${canonicalAttributeEscape(p.id.scheme)}">`;
    both(`${textOf(p.id.value)}</Identifier>`);
    if (p.identification) assuranceLevelsDetails(p.identification);
    close(name);
  };
  // With IAL and AAL known, the EN 319 522 form that keeps them apart: the authentication with its level
  // (AAL), then the identity-proofing level (IAL); the overall level is their minimum (src/core/assurance.ts).
  // Otherwise the global level with the authentication details.
  const assuranceLevelsDetails = (ident: Identification): void => {
    const authentication = (): void => {
      open('AuthenticationDetails');
      leaf('AuthenticationTime', dateTime(ident.authenticatedAt));
      leaf('AuthenticationMethod', ident.method);
      close('AuthenticationDetails');
    };
    open('AssuranceLevelsDetails');
    if (ident.ial !== undefined && ident.aal !== undefined) {
      open('AuthenticationDetsAndAssuranceLevel');
      authentication();
      leaf('AssuranceLevel', loaUri(ident.aal));
      close('AuthenticationDetsAndAssuranceLevel');
      open('IdentityProofAssuranceLevel');
      leaf('AssuranceLevel', loaUri(ident.ial));
      close('IdentityProofAssuranceLevel');
    } else {
      open('GlobalAssuranceLevel');
      leaf('AssuranceLevel', ident.assuranceLevel);
      close('GlobalAssuranceLevel');
      authentication();
    }
    close('AssuranceLevelsDetails');
  };

  leaf('EvidenceIdentifier', data.id);
  leaf('ERDSEventId', eventUri(data.event));
  if (data.reason) {
    open('EventReasons');
    open('EventReason');
    leaf('Code', reasonUri(data.reason.code));
    // As in the EN 319 532 REM samples: the short code, then the text, each in a Details.
    leaf('Details', data.reason.code);
    if (data.reason.details !== undefined) leaf('Details', data.reason.details);
    close('EventReason');
    close('EventReasons');
  }
  leaf('EventTime', dateTime(data.eventTime));
  if (data.issuerPolicyIds.length > 0) {
    open('EvidenceIssuerPolicyID');
    for (const p of data.issuerPolicyIds) leaf('PolicyID', p);
    close('EvidenceIssuerPolicyID');
  }
  open('EvidenceIssuerDetails');
  identity(data.issuer.name, data.issuer.id);
  close('EvidenceIssuerDetails');
  userDetails('SenderDetails', data.sender);
  userDetails('RecipientDetails', data.recipient);
  if (data.submissionTime) leaf('SubmissionTime', dateTime(data.submissionTime));
  leaf('MessageIdentifier', data.messageId);
  if (withParts) {
    open('UserContentInfo');
    open('PartsInfo');
    for (const p of data.parts) {
      open('PartInfo');
      leaf('Identifier', p.partId);
      leaf('ContentType', p.contentType);
      // The root declares ds in the document; in canonical form each ds: element does.
      x += `<ds:DigestMethod Algorithm="${SHA256_URI}"/>`;
      c += `<ds:DigestMethod xmlns:ds="${DS_NS}" Algorithm="${SHA256_URI}"></ds:DigestMethod>`;
      const digest = base64OfHex(p.sha256);
      x += `<ds:DigestValue>${digest}</ds:DigestValue>`;
      c += `<ds:DigestValue xmlns:ds="${DS_NS}">${digest}</ds:DigestValue>`;
      close('PartInfo');
    }
    close('PartsInfo');
    close('UserContentInfo');
  }
  // ExternalERDSDetails: we could not confirm its inner structure in EN 319 522-3; we write the other
  // ERDS's Identity the way EvidenceIssuerDetails carries the issuer's.
  if (data.externalErds) {
    open('ExternalERDSDetails');
    identity(data.externalErds.name, data.externalErds.id);
    close('ExternalERDSDetails');
  }
  // Extensions/Extension hold any foreign-namespace content: our chain link to the previous evidence,
  // and the plaintext digests of end-to-end encrypted parts (PartInfo has room for one digest only: the
  // ciphertext's, the bytes that travel).
  const plaintextDigests = data.parts.filter((p) => p.plaintextSha256 !== undefined);
  const sealedOnBehalf = data.parts.filter((p) => p.sealedOnBehalf !== undefined);
  if (data.previousEvidenceId !== undefined || plaintextDigests.length > 0 || sealedOnBehalf.length > 0) {
    open('Extensions');
    if (data.previousEvidenceId !== undefined) {
      open('Extension');
      both(
        `<qx:PreviousEvidence xmlns:qx="${QERDS_EXT_NS}">${textOf(data.previousEvidenceId)}</qx:PreviousEvidence>`,
      );
      close('Extension');
    }
    if (plaintextDigests.length > 0) {
      open('Extension');
      for (const p of plaintextDigests) {
        // The part id as its Identifier text reads back (textValue), so that the two name the same part.
        const partId = textValue(p.partId);
        x +=
          `<qx:PlaintextDigest PartId="${serializedAttributeValue(partId)}" Algorithm="${SHA256_URI}" ` +
          `xmlns:qx="${QERDS_EXT_NS}">`;
        c += `<qx:PlaintextDigest xmlns:qx="${QERDS_EXT_NS}" Algorithm="${SHA256_URI}" PartId="${canonicalAttributeEscape(partId)}">`;
        both(`${base64OfHex(p.plaintextSha256!)}</qx:PlaintextDigest>`);
      }
      close('Extension');
    }
    // The AP sealed these parts on the sender's behalf (remote e-seal): which format, with which of the
    // sender's certificates, over which submitted bytes, so that nobody takes the seal for the sender's own act.
    if (sealedOnBehalf.length > 0) {
      open('Extension');
      for (const p of sealedOnBehalf) {
        const partId = textValue(p.partId);
        const { submittedSha256, certificateSha256 } = p.sealedOnBehalf!;
        const format = p.sealedOnBehalf!.format;
        const submitted = base64OfHex(submittedSha256);
        const certificate = base64OfHex(certificateSha256);
        x +=
          `<qx:SealedOnBehalf PartId="${serializedAttributeValue(partId)}" Format="${serializedAttributeValue(format)}" ` +
          `Algorithm="${SHA256_URI}" SubmittedDigest="${submitted}" CertificateDigest="${certificate}" ` +
          `xmlns:qx="${QERDS_EXT_NS}"/>`;
        c +=
          `<qx:SealedOnBehalf xmlns:qx="${QERDS_EXT_NS}" Algorithm="${SHA256_URI}" CertificateDigest="${certificate}" ` +
          `Format="${canonicalAttributeEscape(format)}" PartId="${canonicalAttributeEscape(partId)}" ` +
          `SubmittedDigest="${submitted}"></qx:SealedOnBehalf>`;
      }
      close('Extension');
    }
    close('Extensions');
  }
  both(`</${ROOT}>`);
  return { xml: x, signatureAt: x.length - ROOT.length - 3, canonical: c, ids: [id] };
}

const ROOT = `${EVIDENCE_PREFIX}:Evidence`;

/** An EN 319 522-3 element's name as written: `ev:` for the schema's global elements, none for the local ones. */
const tagOf = (name: string): string =>
  evidenceNamespaceOf(name) === null ? name : `${EVIDENCE_PREFIX}:${name}`;

/** Text content as read back (textValue); both forms escape it alike then (`<`, `&`, `>`; no CR is left to escape). */
const textOf = (value: string): string => canonicalTextEscape(textValue(value));

/** The opening tag of a saml:Attribute in both forms (its attributes are constants). */
interface SamlAttributeTags {
  readonly xml: string;
  readonly canonical: string;
}

function samlAttributeTags(name: string, friendly: string): SamlAttributeTags {
  const a = serializedAttributeValue;
  const b = canonicalAttributeEscape;
  return {
    xml: `<saml:Attribute Name="${a(name)}" NameFormat="${a(SAML_ATTR_NAME_FORMAT_URI)}" FriendlyName="${a(friendly)}">`,
    canonical:
      `<saml:Attribute xmlns:saml="${SAML_NS}" FriendlyName="${b(friendly)}" Name="${b(name)}" ` +
      `NameFormat="${b(SAML_ATTR_NAME_FORMAT_URI)}">`,
  };
}

const LEGAL_NAME = samlAttributeTags(EIDAS_LEGAL_NAME, 'LegalName');
const LEGAL_PERSON_IDENTIFIER = samlAttributeTags(EIDAS_LEGAL_PERSON_IDENTIFIER, 'LegalPersonIdentifier');

const base64OfHex = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

/** xs:dateTime in UTC with milliseconds, e.g. 2025-03-01T09:30:00.000Z. */
function dateTime(d: Date): string {
  if (Number.isNaN(d.getTime()))
    throw new QerdsError('EVIDENCE_INVALID_DATA', 'invalid date in evidence data');
  return d.toISOString();
}

/**
 * A text value as a parse of it reads back: XML 1.0 normalizes CR and CR LF to LF; write LF so that the sealed text is
 * the text read back. (Attribute values need nothing: CR, TAB, LF are escaped and read back as such.)
 */
function textValue(s: string): string {
  return s.includes('\r') ? s.replace(/\r\n?/g, '\n') : s;
}

/** The root's Id must be an NCName: prefix ids that do not start with a letter or underscore. */
function xmlId(id: string): string {
  const safe = id.replace(/[^A-Za-z0-9._-]/g, '_');
  return /^[A-Za-z_]/.test(safe) ? safe : `_${safe}`;
}

function validate(data: EvidenceData): void {
  const problems: string[] = [];
  if (!data.id) problems.push('id is empty');
  if (!data.messageId) problems.push('messageId is empty');
  for (const p of data.parts)
    if (!/^[0-9a-f]{64}$/i.test(p.sha256)) problems.push(`part ${p.partId}: sha256 is not 64 hex digits`);
  for (const p of data.parts) {
    if (p.plaintextSha256 !== undefined && !/^[0-9a-f]{64}$/i.test(p.plaintextSha256))
      problems.push(`part ${p.partId}: plaintextSha256 is not 64 hex digits`);
  }
  for (const f of checkEventComponents(data)) problems.push(f.message);
  if (problems.length > 0) {
    throw new QerdsError('EVIDENCE_INVALID_DATA', `evidence data is invalid: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
}
