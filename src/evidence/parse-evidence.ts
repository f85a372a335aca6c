import type {
  EvidenceData,
  EvidencePart,
  Identification,
  ParticipantDetails,
  ReasonCode,
  SealedOnBehalf,
} from '../core/index.js';
import {
  assuranceLevelOf,
  eventFromUri,
  overallAssurance,
  parseParticipantId,
  QerdsError,
  reasonCodes,
  reasonUri,
} from '../core/index.js';
import { parseXmlStrict, textOf } from '../xml/index.js';
import {
  DS_NS,
  EIDAS_LEGAL_NAME,
  EIDAS_LEGAL_PERSON_IDENTIFIER,
  EVIDENCE_ELEMENT_ORDER,
  EVIDENCE_NS,
  EVIDENCE_VERSION,
  evidenceNamespaceOf,
  type EvidenceXmlForm,
  QERDS_EXT_NS,
  SAML_NS,
  SHA256_URI,
} from './names.js';

const MALFORMED = 'EVIDENCE_MALFORMED';
const XSD_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const fail = (message: string): never => {
  throw new QerdsError(MALFORMED, message);
};

/**
 * Parse EN 319 522-3 evidence XML into EvidenceData, namespace-aware and strict: the root must be
 * `{http://uri.etsi.org/19522/v1#}Evidence` of version EN319522v1.1.1, its children known and in the
 * standard's order; anything else is EVIDENCE_MALFORMED. A trailing ds:Signature is allowed (and not
 * checked here: see verifyEvidence). Elements the standard allows but EvidenceData does not model
 * (delegates, ExternalSystem…) are accepted and not returned.
 *
 * Two forms are read (EvidenceXmlForm): the standard's (global elements in the namespace, local ones
 * unqualified) and the one qerds-ap wrote before (every element in the namespace), which archived evidence
 * still has. The form is read from `EventTime`, a required local element; every other element must then be
 * in that form's namespace, so a document mixing the two is refused as unknown elements.
 */
export function parseEvidenceXml(xml: string): EvidenceData {
  return parseEvidenceDocument(xml).data;
}

/** parseEvidenceXml, also telling which form the document was written in. */
export function parseEvidenceDocument(xml: string): { data: EvidenceData; form: EvidenceXmlForm } {
  return parseEvidenceRoot(parseRoot(xml));
}

/**
 * parseEvidenceXml of a document already parsed: its document element. The reader depends only on what
 * exclusive C14N keeps (element and attribute names and namespaces, attribute values, text with CDATA as text,
 * comments left out), so reading the element a verified whole-document reference covered reads what the
 * canonical form it digested says (verifyEvidence).
 */
export function parseEvidenceElement(root: Element): EvidenceData {
  return parseEvidenceRoot(checkRoot(root)).data;
}

function parseEvidenceRoot(root: Element): { data: EvidenceData; form: EvidenceXmlForm } {
  const form = formOf(root);
  const ev: EvidenceChildren = (parent, localName) =>
    children(parent, evidenceNamespaceOf(localName, form), localName);
  const byName = new Map<string, Element[]>();
  let last = -1;
  for (const child of elements(root)) {
    if (child.namespaceURI === DS_NS && child.localName === 'Signature') {
      last = EVIDENCE_ELEMENT_ORDER.length;
      continue;
    }
    const index =
      (child.namespaceURI ?? null) === evidenceNamespaceOf(child.localName, form)
        ? (EVIDENCE_ELEMENT_ORDER as readonly string[]).indexOf(child.localName)
        : -1;
    if (index < 0) fail(`unknown element {${child.namespaceURI ?? ''}}${child.localName} in Evidence`);
    if (index < last) fail(`element ${child.localName} is out of order`);
    const repeatable =
      child.localName === 'RecipientDetails' || child.localName === 'RecipientsDelegateDetails';
    if (index === last && !repeatable) fail(`element ${child.localName} occurs twice`);
    last = index;
    byName.set(child.localName, [...(byName.get(child.localName) ?? []), child]);
  }
  const one = (name: string): Element | undefined => byName.get(name)?.[0];
  const required = (name: string): Element => one(name) ?? fail(`Evidence lacks ${name}`);

  const eventText = text(required('ERDSEventId'));
  const event = eventFromUri(eventText) ?? fail(`unknown ERDSEventId ${eventText}`);
  const recipients = byName.get('RecipientDetails') ?? [];
  if (recipients.length !== 1) fail(`expected one RecipientDetails, found ${recipients.length}`);
  const submission = one('SubmissionTime');
  const previous = one('Extensions');
  const reasons = one('EventReasons');
  const external = one('ExternalERDSDetails');
  const policy = one('EvidenceIssuerPolicyID');
  const content = one('UserContentInfo');
  const data: EvidenceData = {
    id: text(required('EvidenceIdentifier')),
    event,
    ...(reasons ? { reason: parseReason(reasons, ev) } : {}),
    eventTime: dateTime(required('EventTime')),
    issuerPolicyIds: policy ? ev(policy, 'PolicyID').map(text) : [],
    issuer: parseErds(required('EvidenceIssuerDetails'), ev),
    sender: parseUser(required('SenderDetails'), ev),
    recipient: parseUser(recipients[0] as Element, ev),
    ...(submission ? { submissionTime: dateTime(submission) } : {}),
    messageId: text(required('MessageIdentifier')),
    parts: withSealedOnBehalf(
      withPlaintextDigests(content ? parseParts(content, ev, form) : [], previous, ev),
      previous,
      ev,
    ),
    ...(previous ? previousEvidence(previous, ev) : {}),
    ...(external ? { externalErds: parseErds(external, ev) } : {}),
  };
  return { data, form };
}

/**
 * The form of a document, from its required local element EventTime: unqualified in the standard's form, in
 * the evidence namespace in the form written before. Without one the standard's form is assumed (the
 * element-by-element check then reports what is missing).
 */
function formOf(root: Element): EvidenceXmlForm {
  const eventTime = elements(root).find((e) => e.localName === 'EventTime');
  return eventTime?.namespaceURI === EVIDENCE_NS ? 'all-qualified' : 'standard';
}

function parseRoot(xml: string): Element {
  // Strict parse (xml/): DOCTYPE refused (threat: entity expansion and DTD-declared IDs; evidence never needs one).
  // Processing instructions are left alone here: the seal verification refuses them.
  return checkRoot(
    parseXmlStrict(xml, MALFORMED, { what: 'evidence', allowProcessingInstructions: true })
      .documentElement as Element,
  );
}

function checkRoot(r: Element): Element {
  if (r.namespaceURI !== EVIDENCE_NS || r.localName !== 'Evidence')
    fail(`root is {${r.namespaceURI ?? ''}}${r.localName}, not {${EVIDENCE_NS}}Evidence`);
  const version = r.getAttribute('version');
  if (version !== EVIDENCE_VERSION) fail(`unsupported evidence version "${version ?? ''}"`);
  return r;
}

function parseReason(reasons: Element, ev: EvidenceChildren): { code: ReasonCode; details?: string } {
  const reason = ev(reasons, 'EventReason')[0] ?? fail('EventReasons has no EventReason');
  const uri = text(ev(reason, 'Code')[0] ?? fail('EventReason has no Code'));
  const details = ev(reason, 'Details').map(text);
  const short = details.find((d): d is ReasonCode => Object.hasOwn(reasonCodes, d));
  // The short code, when present, must agree with the URI; without it the URI decides.
  const code =
    short ??
    (Object.keys(reasonCodes) as ReasonCode[]).find((c) => reasonUri(c) === uri) ??
    fail(`unknown EventReason code ${uri}`);
  if (reasonUri(code) !== uri) fail(`EventReason code ${uri} does not match ${code}`);
  const rest = details.filter((d) => d !== short);
  return rest.length > 0 ? { code, details: rest.join('\n') } : { code };
}

function identityAttributes(details: Element, ev: EvidenceChildren): Map<string, string> {
  const out = new Map<string, string>();
  const identity = ev(details, 'Identity')[0];
  if (!identity) return out;
  for (const attr of children(identity, SAML_NS, 'Attribute')) {
    const value = children(attr, SAML_NS, 'AttributeValue')[0];
    if (value) out.set(attr.getAttribute('Name') ?? '', text(value));
  }
  return out;
}

function parseErds(details: Element, ev: EvidenceChildren): { name: string; id: string } {
  const attrs = identityAttributes(details, ev);
  return {
    name: attrs.get(EIDAS_LEGAL_NAME) ?? fail(`${details.localName} lacks the LegalName attribute`),
    id:
      attrs.get(EIDAS_LEGAL_PERSON_IDENTIFIER) ??
      fail(`${details.localName} lacks the LegalPersonIdentifier attribute`),
  };
}

function parseUser(details: Element, ev: EvidenceChildren): ParticipantDetails {
  const attrs = identityAttributes(details, ev);
  const identifier = ev(details, 'Identifier')[0];
  let id;
  if (identifier)
    id = {
      scheme:
        identifier.getAttribute('IdentifierSchemeName') ?? fail('Identifier lacks IdentifierSchemeName'),
      value: text(identifier),
    };
  else {
    const lpi =
      attrs.get(EIDAS_LEGAL_PERSON_IDENTIFIER) ??
      fail(`${details.localName} has neither Identifier nor LegalPersonIdentifier`);
    try {
      id = parseParticipantId(lpi);
    } catch (cause) {
      throw new QerdsError(MALFORMED, `${details.localName}: ${(cause as Error).message}`, { cause });
    }
  }
  const name = attrs.get(EIDAS_LEGAL_NAME);
  const levels = ev(details, 'AssuranceLevelsDetails')[0];
  const identification = levels ? parseIdentification(levels, ev) : undefined;
  return { id, ...(name !== undefined ? { name } : {}), ...(identification ? { identification } : {}) };
}

function parseIdentification(levels: Element, ev: EvidenceChildren): Identification | undefined {
  const global = ev(levels, 'GlobalAssuranceLevel')[0];
  const auth = ev(levels, 'AuthenticationDetails')[0];
  const split = ev(levels, 'AuthenticationDetsAndAssuranceLevel')[0];
  if (split) return parseSplitIdentification(split, ev(levels, 'IdentityProofAssuranceLevel')[0], ev);
  if (!global || !auth) return undefined;
  const level = ev(global, 'AssuranceLevel')[0] ?? fail('GlobalAssuranceLevel lacks AssuranceLevel');
  const time = ev(auth, 'AuthenticationTime')[0];
  const method = ev(auth, 'AuthenticationMethod')[0];
  if (!time || !method) return undefined;
  return { method: text(method), assuranceLevel: text(level), authenticatedAt: dateTime(time) };
}

/**
 * AuthenticationDetsAndAssuranceLevel (AAL) + IdentityProofAssuranceLevel (IAL): the overall level is their
 * minimum. Levels that are not eIDAS LoA URIs are kept as written, without IAL/AAL numbers.
 */
function parseSplitIdentification(
  split: Element,
  proof: Element | undefined,
  ev: EvidenceChildren,
): Identification | undefined {
  const auth = ev(split, 'AuthenticationDetails')[0];
  const time = auth && ev(auth, 'AuthenticationTime')[0];
  const method = auth && ev(auth, 'AuthenticationMethod')[0];
  if (!time || !method) return undefined;
  const aalUri = text(
    ev(split, 'AssuranceLevel')[0] ?? fail('AuthenticationDetsAndAssuranceLevel lacks AssuranceLevel'),
  );
  const ialUri = text(
    ev(
      proof ?? fail('AuthenticationDetsAndAssuranceLevel without IdentityProofAssuranceLevel'),
      'AssuranceLevel',
    )[0] ?? fail('IdentityProofAssuranceLevel lacks AssuranceLevel'),
  );
  const base = { method: text(method), authenticatedAt: dateTime(time) };
  const aal = assuranceLevelOf(aalUri);
  const ial = assuranceLevelOf(ialUri);
  if (aal === undefined || ial === undefined)
    return { ...base, assuranceLevel: aal === undefined ? aalUri : ialUri };
  return { ...base, assuranceLevel: overallAssurance(ial, aal).uri, ial, aal };
}

function parseParts(content: Element, ev: EvidenceChildren, form: EvidenceXmlForm): EvidencePart[] {
  const partsInfo = ev(content, 'PartsInfo')[0];
  if (!partsInfo) return [];
  // Identifier and ContentType are local elements: the one namespace the form gives both.
  const localNs = evidenceNamespaceOf('Identifier', form);
  return ev(partsInfo, 'PartInfo').map((p) => parsePartInfo(p, localNs));
}

/**
 * One PartInfo, its children read in one pass (a 16 KB evidence has some fifty: four scans of each, one per
 * child looked up, were most of the evidence reader's CPU). Reads what four `children` calls would: the first
 * Identifier and ContentType in `localNs` (the namespace the document's form gives local elements),
 * the first ds:DigestMethod and ds:DigestValue; other elements are skipped; a text child that is not white space
 * is refused.
 */
function parsePartInfo(p: Element, localNs: string | null): EvidencePart {
  let identifier: Element | undefined;
  let contentType: Element | undefined;
  let method: Element | undefined;
  let value: Element | undefined;
  for (let n = p.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== 1) {
      checkNotText(p, n);
      continue;
    }
    const e = n as Element;
    const ns = e.namespaceURI ?? null;
    switch (e.localName) {
      case 'Identifier':
        if (!identifier && ns === localNs) identifier = e;
        break;
      case 'ContentType':
        if (!contentType && ns === localNs) contentType = e;
        break;
      case 'DigestMethod':
        if (!method && ns === DS_NS) method = e;
        break;
      case 'DigestValue':
        if (!value && ns === DS_NS) value = e;
        break;
    }
  }
  if (!method || !value) fail('PartInfo without ds:DigestMethod and ds:DigestValue is not supported');
  const algorithm = (method as Element).getAttribute('Algorithm');
  if (algorithm !== SHA256_URI) fail(`PartInfo digest ${algorithm ?? ''} is not SHA-256`);
  const digest = Buffer.from(text(value as Element), 'base64');
  if (digest.length !== 32) fail('PartInfo DigestValue is not a SHA-256 value');
  return {
    partId: text(identifier ?? fail('PartInfo lacks Identifier')),
    contentType: text(contentType ?? fail('PartInfo lacks ContentType')),
    sha256: digest.toString('hex'),
  };
}

/**
 * Extensions/Extension/qx:PlaintextDigest (PartId, Algorithm; base64 SHA-256): the plaintext digest of an
 * end-to-end encrypted part, joined to its PartInfo. One naming no PartInfo is malformed.
 */
function withPlaintextDigests(
  parts: EvidencePart[],
  extensions: Element | undefined,
  ev: EvidenceChildren,
): EvidencePart[] {
  if (!extensions) return parts;
  const digests = new Map<string, string>();
  for (const ext of ev(extensions, 'Extension')) {
    for (const el of children(ext, QERDS_EXT_NS, 'PlaintextDigest')) {
      // Read as the Identifier text it names is read (textOf: trimmed), so that the two name the same part.
      const partId = (el.getAttribute('PartId') ?? '').trim();
      if (el.getAttribute('Algorithm') !== SHA256_URI)
        fail(`PlaintextDigest of part ${partId} is not SHA-256`);
      const digest = Buffer.from(text(el), 'base64');
      if (digest.length !== 32) fail(`PlaintextDigest of part ${partId} is not a SHA-256 value`);
      if (!parts.some((p) => p.partId === partId))
        fail(`PlaintextDigest names part ${partId}, which has no PartInfo`);
      if (digests.has(partId)) fail(`two PlaintextDigest elements for part ${partId}`);
      digests.set(partId, digest.toString('hex'));
    }
  }
  return parts.map((p) => (digests.has(p.partId) ? { ...p, plaintextSha256: digests.get(p.partId)! } : p));
}

/**
 * Extensions/Extension/qx:SealedOnBehalf (PartId, Format, Algorithm, SubmittedDigest, CertificateDigest): the
 * issuer sealed the part with the sender's remote e-seal. One naming no PartInfo is malformed.
 */
function withSealedOnBehalf(
  parts: EvidencePart[],
  extensions: Element | undefined,
  ev: EvidenceChildren,
): EvidencePart[] {
  if (!extensions) return parts;
  const sealed = new Map<string, SealedOnBehalf>();
  for (const ext of ev(extensions, 'Extension')) {
    for (const el of children(ext, QERDS_EXT_NS, 'SealedOnBehalf')) {
      // Read as the Identifier text it names is read (textOf: trimmed), so that the two name the same part.
      const partId = (el.getAttribute('PartId') ?? '').trim();
      const format = el.getAttribute('Format');
      if (format !== 'XAdES' && format !== 'CAdES')
        fail(`SealedOnBehalf of part ${partId} has format ${format ?? '(none)'}`);
      if (el.getAttribute('Algorithm') !== SHA256_URI)
        fail(`SealedOnBehalf of part ${partId} is not SHA-256`);
      const digest = (name: string) => {
        const value = Buffer.from(el.getAttribute(name) ?? '', 'base64');
        if (value.length !== 32) fail(`SealedOnBehalf ${name} of part ${partId} is not a SHA-256 value`);
        return value.toString('hex');
      };
      if (!parts.some((p) => p.partId === partId) || sealed.has(partId))
        fail(`SealedOnBehalf names part ${partId} twice or without PartInfo`);
      sealed.set(partId, {
        format: format as SealedOnBehalf['format'],
        submittedSha256: digest('SubmittedDigest'),
        certificateSha256: digest('CertificateDigest'),
      });
    }
  }
  return parts.map((p) => (sealed.has(p.partId) ? { ...p, sealedOnBehalf: sealed.get(p.partId)! } : p));
}

function previousEvidence(extensions: Element, ev: EvidenceChildren): { previousEvidenceId?: string } {
  for (const ext of ev(extensions, 'Extension')) {
    const prev = children(ext, QERDS_EXT_NS, 'PreviousEvidence')[0];
    if (prev) return { previousEvidenceId: text(prev) };
  }
  return {};
}

function dateTime(el: Element): Date {
  const t = text(el);
  if (!XSD_DATETIME.test(t)) fail(`${el.localName} is not an xs:dateTime with a time zone: "${t}"`);
  return new Date(t);
}

function text(el: Element): string {
  return textOf(el);
}

function elements(parent: Element): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1) out.push(n as Element);
    else checkNotText(parent, n);
  }
  return out;
}

/** `\S` is what `trim()` does not remove: a text with one is not white space only (tested without a trimmed copy). */
const NOT_WHITE_SPACE = /\S/;

/** Refuses a text child that is not white space only. */
function checkNotText(parent: Element, n: Node): void {
  // CDATA as text: exclusive C14N writes it as text, and a DOM read must read what the canonical form says.
  if ((n.nodeType === 3 || n.nodeType === 4) && NOT_WHITE_SPACE.test(n.nodeValue ?? ''))
    fail(`unexpected text in ${parent.localName}`);
}

/** The EN 319 522-3 children named `localName`, in the namespace the document's form gives that name. */
type EvidenceChildren = (parent: Element, localName: string) => Element[];

/** The children `{ns}localName` (ns null: no namespace). */
function children(parent: Element, ns: string | null, localName: string): Element[] {
  // elements(parent) filtered, in one pass: every child is still looked at (a text child anywhere is refused).
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== 1) checkNotText(parent, n);
    else if (((n as Element).namespaceURI ?? null) === ns && (n as Element).localName === localName)
      out.push(n as Element);
  }
  return out;
}
