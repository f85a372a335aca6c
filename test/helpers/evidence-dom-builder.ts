import { DOMImplementation } from '@xmldom/xmldom';
import type { EvidenceData, Identification, ParticipantDetails } from '../../src/core/index.js';
import { eventUri, formatParticipantId, loaUri, QerdsError, reasonUri } from '../../src/core/index.js';
import { checkEventComponents } from '../../src/evidence/event-reasons.js';
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
  XMLNS_NS,
} from '../../src/evidence/names.js';
import { serializeXml } from '../../src/xml/index.js';

type Child = Element | undefined | false;

/*
 * The evidence builder as it was before the text builder (src/evidence/build-evidence.ts writeEvidence) replaced
 * it, kept unchanged as the oracle of that builder and of the seal made without a DOM
 * (test/evidence/written-seal-oracle.test.ts): an xmldom DOM, serialized by xmldom's XMLSerializer.
 */

/**
 * Build the EN 319 522-3 XML of one evidence (not sealed). Children of `Evidence` come in the order of
 * the standard's sequence (see EVIDENCE_ELEMENT_ORDER); optional ones are left out when the data has
 * nothing for them. Built on the one DOM, serialized without indentation so that what is sealed is
 * exactly what a reader parses.
 *
 * The standard's form (`elementFormDefault="unqualified"`): the schema's global elements are written
 * `ev:Name` in EVIDENCE_NS, every local element (`EventTime`, `Code`, `Identifier`…) with no namespace,
 * and no default namespace is ever declared, which would pull the local elements into it
 * (EVIDENCE_GLOBAL_ELEMENTS). saml:, ds: and extension content keep their own namespaces.
 */
export function buildEvidenceXml(data: EvidenceData): string {
  return buildEvidenceDocument(data).xml;
}

/**
 * buildEvidenceXml, also returning the DOM the text was serialized from. The DOM is what a strict parse of
 * `xml` gives back, by construction: element and attribute names are constants of this module, text goes
 * through the serializer's escaping (`<`, `&`, `>`) with CR normalized to LF, attribute values through its
 * escaping (`<`, `>`, `&`, `"`, TAB, LF, CR), and no comment, PI or CDATA is written. What construction does not
 * rule out is a character XML 1.0 cannot hold: the caller checks the text (issueEvidence).
 */
export function buildEvidenceDocument(data: EvidenceData): { xml: string; doc: Document } {
  validate(data);
  const doc = new DOMImplementation().createDocument(EVIDENCE_NS, `${EVIDENCE_PREFIX}:Evidence`, null);
  const root = doc.documentElement;
  root.setAttributeNS(XMLNS_NS, 'xmlns:saml', SAML_NS);
  // ds only where PartInfo uses it: exclusive C14N leaves an unused declaration out of what the seal signs, and
  // evidence should carry no byte that could change without breaking the seal (test/evidence/tampering-sweep).
  if (data.parts.length > 0) root.setAttributeNS(XMLNS_NS, 'xmlns:ds', DS_NS);
  root.setAttribute('version', EVIDENCE_VERSION);
  root.setAttribute('Id', xmlId(data.id));

  /** An EN 319 522-3 element, or (with `ns`) an element of another namespace whose name carries its prefix. */
  const e = (
    name: string,
    children: Child[] | string,
    attrs: Record<string, string> = {},
    ns?: string,
  ): Element => {
    const evNs = ns === undefined ? evidenceNamespaceOf(name) : undefined;
    const el =
      ns !== undefined
        ? doc.createElementNS(ns, name)
        : evNs
          ? doc.createElementNS(evNs, `${EVIDENCE_PREFIX}:${name}`)
          : doc.createElementNS(null, name);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (typeof children === 'string') el.appendChild(doc.createTextNode(text(children)));
    else for (const c of children) if (c) el.appendChild(c);
    return el;
  };
  const samlAttribute = (name: string, friendly: string, value: string): Element =>
    e(
      'saml:Attribute',
      [e('saml:AttributeValue', value, {}, SAML_NS)],
      { Name: name, NameFormat: SAML_ATTR_NAME_FORMAT_URI, FriendlyName: friendly },
      SAML_NS,
    );
  // eIDAS legal-person attributes. We write LegalPersonIdentifier as "<scheme>:<value>" (our participant
  // id form); the eIDAS "CC/CC/id" form needs a country we do not know for every scheme.
  const identity = (name: string | undefined, id: string): Element =>
    e('Identity', [
      name !== undefined && samlAttribute(EIDAS_LEGAL_NAME, 'LegalName', name),
      samlAttribute(EIDAS_LEGAL_PERSON_IDENTIFIER, 'LegalPersonIdentifier', id),
    ]);
  const userDetails = (tag: string, p: ParticipantDetails): Element =>
    e(tag, [
      identity(p.name, formatParticipantId(p.id)),
      // IdentifierSchemeName: the scheme code as given (ISO 6523 ICD such as 0188, or `email`).
      e('Identifier', p.id.value, { IdentifierSchemeName: p.id.scheme }),
      p.identification && assuranceLevelsDetails(p.identification),
    ]);
  // With IAL and AAL known, the EN 319 522 form that keeps them apart: the authentication with its level
  // (AAL), then the identity-proofing level (IAL); the overall level is their minimum (src/core/assurance.ts).
  // Otherwise the global level with the authentication details.
  const assuranceLevelsDetails = (id: Identification): Element => {
    const authentication = e('AuthenticationDetails', [
      e('AuthenticationTime', dateTime(id.authenticatedAt)),
      e('AuthenticationMethod', id.method),
    ]);
    if (id.ial !== undefined && id.aal !== undefined) {
      return e('AssuranceLevelsDetails', [
        e('AuthenticationDetsAndAssuranceLevel', [authentication, e('AssuranceLevel', loaUri(id.aal))]),
        e('IdentityProofAssuranceLevel', [e('AssuranceLevel', loaUri(id.ial))]),
      ]);
    }
    return e('AssuranceLevelsDetails', [
      e('GlobalAssuranceLevel', [e('AssuranceLevel', id.assuranceLevel)]),
      authentication,
    ]);
  };

  const plaintextDigests = data.parts.filter((p) => p.plaintextSha256 !== undefined);
  const sealedOnBehalf = data.parts.filter((p) => p.sealedOnBehalf !== undefined);
  const children: Child[] = [
    e('EvidenceIdentifier', data.id),
    e('ERDSEventId', eventUri(data.event)),
    data.reason &&
      e('EventReasons', [
        e('EventReason', [
          e('Code', reasonUri(data.reason.code)),
          // As in the EN 319 532 REM samples: the short code, then the text, each in a Details.
          e('Details', data.reason.code),
          data.reason.details !== undefined && e('Details', data.reason.details),
        ]),
      ]),
    e('EventTime', dateTime(data.eventTime)),
    data.issuerPolicyIds.length > 0 &&
      e(
        'EvidenceIssuerPolicyID',
        data.issuerPolicyIds.map((p) => e('PolicyID', p)),
      ),
    e('EvidenceIssuerDetails', [identity(data.issuer.name, data.issuer.id)]),
    userDetails('SenderDetails', data.sender),
    userDetails('RecipientDetails', data.recipient),
    data.submissionTime && e('SubmissionTime', dateTime(data.submissionTime)),
    e('MessageIdentifier', data.messageId),
    data.parts.length > 0 &&
      e('UserContentInfo', [
        e(
          'PartsInfo',
          data.parts.map((p) =>
            e('PartInfo', [
              e('Identifier', p.partId),
              e('ContentType', p.contentType),
              e('ds:DigestMethod', [], { Algorithm: SHA256_URI }, DS_NS),
              e('ds:DigestValue', Buffer.from(p.sha256, 'hex').toString('base64'), {}, DS_NS),
            ]),
          ),
        ),
      ]),
    // ExternalERDSDetails: we could not confirm its inner structure in EN 319 522-3; we write the other
    // ERDS's Identity the way EvidenceIssuerDetails carries the issuer's.
    data.externalErds && e('ExternalERDSDetails', [identity(data.externalErds.name, data.externalErds.id)]),
    // Extensions/Extension hold any foreign-namespace content: our chain link to the previous evidence,
    // and the plaintext digests of end-to-end encrypted parts (PartInfo has room for one digest only: the
    // ciphertext's, the bytes that travel).
    (data.previousEvidenceId !== undefined || plaintextDigests.length > 0 || sealedOnBehalf.length > 0) &&
      e('Extensions', [
        data.previousEvidenceId !== undefined &&
          e('Extension', [e('qx:PreviousEvidence', data.previousEvidenceId, {}, QERDS_EXT_NS)]),
        plaintextDigests.length > 0 &&
          e(
            'Extension',
            plaintextDigests.map((p) =>
              e(
                'qx:PlaintextDigest',
                Buffer.from(p.plaintextSha256!, 'hex').toString('base64'),
                // The part id as its Identifier text reads back (CR → LF), so that the two name the same part.
                { PartId: text(p.partId), Algorithm: SHA256_URI },
                QERDS_EXT_NS,
              ),
            ),
          ),
        // The AP sealed these parts on the sender's behalf (remote e-seal): which format, with which of the
        // sender's certificates, over which submitted bytes, so that nobody takes the seal for the sender's own act.
        sealedOnBehalf.length > 0 &&
          e(
            'Extension',
            sealedOnBehalf.map((p) =>
              e(
                'qx:SealedOnBehalf',
                [],
                {
                  PartId: text(p.partId),
                  Format: p.sealedOnBehalf!.format,
                  Algorithm: SHA256_URI,
                  SubmittedDigest: Buffer.from(p.sealedOnBehalf!.submittedSha256, 'hex').toString('base64'),
                  CertificateDigest: Buffer.from(p.sealedOnBehalf!.certificateSha256, 'hex').toString(
                    'base64',
                  ),
                },
                QERDS_EXT_NS,
              ),
            ),
          ),
      ]),
  ];
  for (const c of children) if (c) root.appendChild(c);
  // What a parse of the text below has before the root too, so that a seal assembled in this DOM serializes to
  // the same bytes as one assembled in a parse of the text.
  doc.insertBefore(doc.createProcessingInstruction('xml', 'version="1.0" encoding="UTF-8"'), root);
  doc.insertBefore(doc.createTextNode('\n'), root);
  return { xml: `<?xml version="1.0" encoding="UTF-8"?>\n${serializeXml(root)}`, doc };
}

/** xs:dateTime in UTC with milliseconds, e.g. 2025-03-01T09:30:00.000Z. */
function dateTime(d: Date): string {
  if (Number.isNaN(d.getTime()))
    throw new QerdsError('EVIDENCE_INVALID_DATA', 'invalid date in evidence data');
  return d.toISOString();
}

/** XML 1.0 normalizes CR to LF on parsing; write LF so that the sealed text is the text read back. */
function text(s: string): string {
  return s.replace(/\r\n?/g, '\n');
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
