import { QerdsError, type QerdsErrorCode } from '../core/errors.js';
import { childElements, parseXmlStrict, serializeXml, textOf } from '../xml/index.js';
import { isIso3166Alpha2 } from './country-codes.js';
import {
  DOCTYPE_SCHEME_BUSDOX,
  PARTICIPANT_SCHEME,
  PROCESS_SCHEME,
  parseDocumentTypeId,
  parseParticipantId,
  parseProcessId,
  type DocumentTypeIdentifier,
  type ParticipantIdentifier,
  type ParticipantIdOptions,
  type ProcessIdentifier,
} from './identifiers.js';

/**
 * The Standard Business Document Header as the Peppol Business Message Envelope (SBDH) specification profiles it
 * (UN/CEFACT SBDH 1.3 schema, `HeaderVersion` 1.0). The rules here follow its reading in phax/peppol-commons
 * (`PeppolSBDHDataReader`, `EPeppolSBDHDataError`) and that project's SBDH test files (test/fixtures/peppol/sbdh,
 * test/fixtures/peppol/foreign), checked where they differ against the text of "Peppol Business Message Envelope
 * (SBDH) v2.0" (2023-03-13; the PDF is in phax/peppol-commons docs/sbdh/): Scope/InstanceIdentifier 1..1,
 * CreationDateAndTime "MUST include timezone information" (peppol-commons accepts a time without one; we do not),
 * non-XML payloads in BinaryContent/TextContent (§2.3). Model:
 *
 * ```xml
 * <StandardBusinessDocument>
 *   <StandardBusinessDocumentHeader>
 *     <HeaderVersion>1.0</HeaderVersion>
 *     <Sender><Identifier Authority="iso6523-actorid-upis">0188:…</Identifier></Sender>        exactly one
 *     <Receiver><Identifier Authority="iso6523-actorid-upis">0188:…</Identifier></Receiver>    exactly one
 *     <DocumentIdentification>
 *       <Standard/> <TypeVersion/> <InstanceIdentifier/> <Type/> <CreationDateAndTime/>
 *     </DocumentIdentification>
 *     <BusinessScope>
 *       <Scope><Type>DOCUMENTID</Type><InstanceIdentifier/><Identifier>scheme</Identifier></Scope>
 *       <Scope><Type>PROCESSID</Type>…</Scope>  <Scope><Type>COUNTRY_C1</Type>…</Scope>  (others allowed)
 *     </BusinessScope>
 *   </StandardBusinessDocumentHeader>
 *   <!-- the business document, one element -->
 * </StandardBusinessDocument>
 * ```
 */
export const SBDH_NS = 'http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader';
export const SBDH_HEADER_VERSION = '1.0';
/**
 * The wrappers of a non-XML business document (PDF, EDIFACT, X12…): `BinaryContent` (base64, `@mimeType`) and
 * `TextContent` in this namespace, from the schema `PEPPOL-EDN-Business-Message-Envelope-1.2-2019-02-01.xsd` as
 * phax/peppol-commons ships it (peppol-sbdh/src/main/resources/external/schemas).
 */
export const SBDH_PAYLOAD_NS = 'http://peppol.eu/xsd/ticc/envelope/1.0';
const NON_XML_PAYLOADS = new Set(['BinaryContent', 'TextContent']);

/** One `BusinessScope/Scope`. `Identifier` carries the scheme (Envelope spec 1.1 on; absent means the default scheme). */
export interface SbdhScope {
  readonly type: string;
  readonly instanceIdentifier: string;
  readonly identifier?: string;
}

/** What a Peppol SBDH says, read and checked. */
export interface PeppolSbdh {
  readonly sender: ParticipantIdentifier;
  readonly receiver: ParticipantIdentifier;
  readonly standard: string;
  readonly typeVersion: string;
  readonly type: string;
  /** `DocumentIdentification/InstanceIdentifier`: the message's id for duplicate detection and reporting. */
  readonly instanceIdentifier: string;
  /** `CreationDateAndTime` as written (xs:dateTime). */
  readonly creationDateAndTime: string;
  readonly creationTime: Date;
  readonly documentType: DocumentTypeIdentifier;
  readonly process: ProcessIdentifier;
  /** COUNTRY_C1: the country of the sender (C1), ISO 3166-1 alpha-2. */
  readonly countryC1: string;
  /**
   * MLS_TO: where the Message Level Status goes, an SPIS id (`0242:<6 digits>[-…]`). Absent when missing or invalid:
   * the MLS then goes to C2's general service provider id (MLS specification, as peppol-commons quotes it).
   */
  readonly mlsTo?: ParticipantIdentifier;
  /** MLS_TYPE: when to send an MLS. @defaultValue 'FAILURE_ONLY' when the scope is absent */
  readonly mlsType: MlsType;
  /** Every scope, the ones above included, in document order. */
  readonly scopes: readonly SbdhScope[];
}

export type MlsType = 'ALWAYS_SEND' | 'FAILURE_ONLY';
// OpenPeppol Service Provider Identification Scheme, ICD 0242 (regular expression of peppol-commons, SPIS §3.4).
const SPIS_VALUE = /^0242:[0-9]{6}(-[0-9A-Z_]{3,12}(\.[0-9A-Z._~-]{3,24})?)?$/;

function mlsToOf(scope: SbdhScope | undefined): ParticipantIdentifier | undefined {
  if (!scope || scope.identifier !== PARTICIPANT_SCHEME || !SPIS_VALUE.test(scope.instanceIdentifier))
    return undefined;
  try {
    return parseParticipantId(`${PARTICIPANT_SCHEME}::${scope.instanceIdentifier}`, { checkValues: false });
  } catch {
    return undefined;
  }
}

/** What a submission gives to build the SBDH. */
export interface SbdhSubmission {
  readonly sender: ParticipantIdentifier;
  readonly receiver: ParticipantIdentifier;
  readonly documentType: DocumentTypeIdentifier;
  readonly process: ProcessIdentifier;
  readonly countryC1: string;
  /** A fresh id per message; a UUID is what Peppol APs send. */
  readonly instanceIdentifier: string;
  readonly creationTime: Date;
  /** More scopes (MLS_TO, MLS_TYPE), written after the three mandatory ones. */
  readonly extraScopes?: readonly SbdhScope[];
}

export interface ParseSbdOptions {
  /** How participant ids are checked. @defaultValue `{ checkValues: false }` (syntax only, see ParticipantIdOptions) */
  readonly participantIds?: ParticipantIdOptions;
  /** User-assigned country codes accepted as COUNTRY_C1 besides ISO 3166-1 (e.g. `XI`). @defaultValue none */
  readonly extraCountryCodes?: readonly string[];
}

export interface ParsedSbd {
  readonly header: PeppolSbdh;
  /** The business document (the element after the header). */
  readonly businessMessage: Element;
  readonly document: Document;
}

const fail = (code: QerdsErrorCode, message: string, details?: Record<string, unknown>): never => {
  throw new QerdsError(code, message, details ? { details } : {});
};

/** The `<syntax>` part of a document type splits into root namespace and local name (`ns::Invoice`). */
function rootOf(documentType: DocumentTypeIdentifier): { ns: string; localName: string } {
  const at = documentType.syntax.lastIndexOf('::');
  return at < 0
    ? { ns: documentType.syntax, localName: '' }
    : { ns: documentType.syntax.slice(0, at), localName: documentType.syntax.slice(at + 2) };
}

// xs:dateTime with a time zone: the Envelope specification v2.0 requires one (without it the time names no single instant).
const DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Wrap a business document (XML text, one root element) in a Peppol SBD. Standard, Type and TypeVersion come from
 * the document type; the business document's root must be the one the document type names.
 */
export function buildSbd(submission: SbdhSubmission, businessDocumentXml: string): string {
  const business = parseXmlStrict(businessDocumentXml, 'PEPPOL_SBDH_MALFORMED', {
    what: 'business document',
  }).documentElement;
  const root = rootOf(submission.documentType);
  if (business.namespaceURI !== root.ns || business.localName !== root.localName) {
    fail(
      'PEPPOL_SBDH_STANDARD_MISMATCH',
      `business document is {${business.namespaceURI}}${business.localName}, the document type names {${root.ns}}${root.localName}`,
    );
  }
  if (submission.documentType.customization.endsWith('*'))
    fail('PEPPOL_SBDH_DOCTYPE_INVALID', 'a wildcard registration is not a document type');
  if (!isIso3166Alpha2(submission.countryC1))
    fail('PEPPOL_SBDH_COUNTRY_C1_INVALID', `COUNTRY_C1 "${submission.countryC1}" is not ISO 3166-1 alpha-2`);
  const doc = parseXmlStrict(`<StandardBusinessDocument xmlns="${SBDH_NS}"/>`, 'PEPPOL_SBDH_MALFORMED');
  const sbd = doc.documentElement;
  const el = (parent: Element, name: string, text?: string, attrs: Record<string, string> = {}): Element => {
    const e = doc.createElementNS(SBDH_NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.appendChild(doc.createTextNode(text));
    parent.appendChild(e);
    return e;
  };
  const header = el(sbd, 'StandardBusinessDocumentHeader');
  el(header, 'HeaderVersion', SBDH_HEADER_VERSION);
  el(el(header, 'Sender'), 'Identifier', submission.sender.value, { Authority: submission.sender.scheme });
  el(el(header, 'Receiver'), 'Identifier', submission.receiver.value, {
    Authority: submission.receiver.scheme,
  });
  const ident = el(header, 'DocumentIdentification');
  el(ident, 'Standard', root.ns);
  el(ident, 'TypeVersion', submission.documentType.version);
  el(ident, 'InstanceIdentifier', submission.instanceIdentifier);
  el(ident, 'Type', root.localName);
  el(ident, 'CreationDateAndTime', submission.creationTime.toISOString());
  const scope = el(header, 'BusinessScope');
  const scopes: SbdhScope[] = [
    {
      type: 'DOCUMENTID',
      instanceIdentifier: submission.documentType.value,
      identifier: submission.documentType.scheme,
    },
    {
      type: 'PROCESSID',
      instanceIdentifier: submission.process.value,
      identifier: submission.process.scheme,
    },
    { type: 'COUNTRY_C1', instanceIdentifier: submission.countryC1 },
    ...(submission.extraScopes ?? []),
  ];
  for (const s of scopes) {
    const e = el(scope, 'Scope');
    el(e, 'Type', s.type);
    el(e, 'InstanceIdentifier', s.instanceIdentifier);
    if (s.identifier !== undefined) el(e, 'Identifier', s.identifier);
  }
  sbd.appendChild(doc.importNode(business, true));
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serializeXml(doc)}`;
}

/** Exactly one child element `name` of `parent`, else `code`. */
function one(parent: Element, name: string, code: QerdsErrorCode): Element {
  const found = childElements(parent, SBDH_NS, name);
  if (found.length !== 1)
    fail(code, `expected exactly one ${name} in ${parent.localName}, found ${found.length}`);
  return found[0]!;
}

function participantOf(
  parent: Element,
  role: 'Sender' | 'Receiver',
  options: ParticipantIdOptions,
): ParticipantIdentifier {
  const code = role === 'Sender' ? 'PEPPOL_SBDH_SENDER_INVALID' : 'PEPPOL_SBDH_RECEIVER_INVALID';
  const id = one(one(parent, role, code), 'Identifier', code);
  const authority = id.getAttribute('Authority') ?? '';
  if (authority !== PARTICIPANT_SCHEME)
    fail(code, `${role}/Identifier/@Authority must be ${PARTICIPANT_SCHEME}, not "${authority}"`);
  try {
    return parseParticipantId(`${authority}::${textOf(id)}`, options);
  } catch (cause) {
    throw new QerdsError(code, `${role}/Identifier "${textOf(id)}" is not a Peppol participant identifier`, {
      cause,
    });
  }
}

function scopeOf(scopes: readonly SbdhScope[], type: string, code: QerdsErrorCode): SbdhScope {
  const found = scopes.filter((s) => s.type === type);
  if (found.length !== 1)
    fail(code, `expected exactly one BusinessScope/Scope of type ${type}, found ${found.length}`);
  return found[0]!;
}

/**
 * Read a Peppol Standard Business Document strictly (src/xml: no DOCTYPE, no processing instructions) and check
 * its header on its own: one sender and one receiver under `iso6523-actorid-upis`, HeaderVersion 1.0, the document
 * identification (Standard = the business document's namespace and the start of the document type; Type = its
 * local name; TypeVersion = the end of the document type), DOCUMENTID, PROCESSID and COUNTRY_C1 scopes.
 * Each failure throws QerdsError with its own `PEPPOL_SBDH_…` code.
 */
export function parseSbd(xml: string, options: ParseSbdOptions = {}): ParsedSbd {
  const participantIds = options.participantIds ?? { checkValues: false };
  const document = parseXmlStrict(xml, 'PEPPOL_SBDH_MALFORMED', { what: 'Standard Business Document' });
  const sbd = document.documentElement;
  if (sbd.namespaceURI !== SBDH_NS || sbd.localName !== 'StandardBusinessDocument') {
    fail(
      'PEPPOL_SBDH_MALFORMED',
      `root element is {${sbd.namespaceURI}}${sbd.localName}, not a StandardBusinessDocument`,
    );
  }
  const children = childElements(sbd);
  const header = children[0];
  if (!header || header.namespaceURI !== SBDH_NS || header.localName !== 'StandardBusinessDocumentHeader') {
    fail(
      'PEPPOL_SBDH_MALFORMED',
      'the first element of the StandardBusinessDocument must be its StandardBusinessDocumentHeader',
    );
  }
  if (children.length !== 2)
    fail(
      'PEPPOL_SBDH_MALFORMED',
      `expected exactly one business document after the header, found ${children.length - 1}`,
    );
  // Text beside the business document would be a second, unsigned payload nobody validates.
  for (let n = sbd.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 3 && (n.nodeValue ?? '').trim() !== '')
      fail('PEPPOL_SBDH_MALFORMED', 'text outside the header and the business document');
  }
  const businessMessage = children[1]!;
  const h = header!;

  const version = textOf(one(h, 'HeaderVersion', 'PEPPOL_SBDH_HEADER_VERSION'));
  if (version !== SBDH_HEADER_VERSION)
    fail('PEPPOL_SBDH_HEADER_VERSION', `HeaderVersion "${version}" is not ${SBDH_HEADER_VERSION}`);
  const sender = participantOf(h, 'Sender', participantIds);
  const receiver = participantOf(h, 'Receiver', participantIds);

  const ident = one(h, 'DocumentIdentification', 'PEPPOL_SBDH_MALFORMED');
  const field = (name: string, code: QerdsErrorCode) => textOf(one(ident, name, code));
  const standard = field('Standard', 'PEPPOL_SBDH_STANDARD_MISMATCH');
  const typeVersion = field('TypeVersion', 'PEPPOL_SBDH_STANDARD_MISMATCH');
  const instanceIdentifier = field('InstanceIdentifier', 'PEPPOL_SBDH_INSTANCE_ID_INVALID');
  const type = field('Type', 'PEPPOL_SBDH_STANDARD_MISMATCH');
  const creationDateAndTime = field('CreationDateAndTime', 'PEPPOL_SBDH_CREATION_TIME_INVALID');
  if (!instanceIdentifier || /\s/.test(instanceIdentifier))
    fail(
      'PEPPOL_SBDH_INSTANCE_ID_INVALID',
      `InstanceIdentifier "${instanceIdentifier}" is empty or has white space`,
    );
  const creationTime = new Date(creationDateAndTime);
  if (!DATE_TIME.test(creationDateAndTime) || Number.isNaN(creationTime.getTime())) {
    fail(
      'PEPPOL_SBDH_CREATION_TIME_INVALID',
      `CreationDateAndTime "${creationDateAndTime}" is not an xs:dateTime with a time zone`,
    );
  }

  const businessScope = childElements(h, SBDH_NS, 'BusinessScope');
  if (businessScope.length !== 1)
    fail('PEPPOL_SBDH_DOCTYPE_INVALID', 'the BusinessScope (DOCUMENTID, PROCESSID, COUNTRY_C1) is missing');
  const scopes: SbdhScope[] = childElements(businessScope[0]!, SBDH_NS, 'Scope').map((s) => {
    const identifier = childElements(s, SBDH_NS, 'Identifier')[0];
    // The SBDH 1.3 schema makes InstanceIdentifier mandatory in every Scope (ScopeAttributes), MLS_TO included.
    return {
      type: textOf(one(s, 'Type', 'PEPPOL_SBDH_MALFORMED')),
      instanceIdentifier: textOf(one(s, 'InstanceIdentifier', 'PEPPOL_SBDH_MALFORMED')),
      ...(identifier ? { identifier: textOf(identifier) } : {}),
    };
  });
  const docScope = scopeOf(scopes, 'DOCUMENTID', 'PEPPOL_SBDH_DOCTYPE_INVALID');
  const procScope = scopeOf(scopes, 'PROCESSID', 'PEPPOL_SBDH_PROCESS_INVALID');
  const countryScope = scopeOf(scopes, 'COUNTRY_C1', 'PEPPOL_SBDH_COUNTRY_C1_INVALID');
  let documentType: DocumentTypeIdentifier;
  let process: ProcessIdentifier;
  try {
    documentType = parseDocumentTypeId(
      docScope.instanceIdentifier,
      docScope.identifier ?? DOCTYPE_SCHEME_BUSDOX,
    );
  } catch (cause) {
    throw new QerdsError(
      'PEPPOL_SBDH_DOCTYPE_INVALID',
      `DOCUMENTID "${docScope.instanceIdentifier}" is not a Peppol document type`,
      { cause },
    );
  }
  try {
    // The scheme comes from its own element: gluing it to the value as `scheme::value` and splitting again would
    // lose a scheme without a hyphen (`ptype`, peppol-commons good-v11.xml) into the value.
    const checked = parseProcessId(`${PROCESS_SCHEME}::${procScope.instanceIdentifier}`);
    process = Object.freeze({ scheme: procScope.identifier ?? PROCESS_SCHEME, value: checked.value });
  } catch (cause) {
    throw new QerdsError(
      'PEPPOL_SBDH_PROCESS_INVALID',
      `PROCESSID "${procScope.instanceIdentifier}" is not a Peppol process`,
      { cause },
    );
  }
  // A `*` belongs to an SMP registration; a message names the one document type it carries.
  if (documentType.customization.endsWith('*'))
    fail(
      'PEPPOL_SBDH_DOCTYPE_INVALID',
      `DOCUMENTID "${documentType.value}" is a wildcard registration, not a document type`,
    );
  const countryC1 = countryScope.instanceIdentifier;
  if (!isIso3166Alpha2(countryC1, options.extraCountryCodes))
    fail('PEPPOL_SBDH_COUNTRY_C1_INVALID', `COUNTRY_C1 "${countryC1}" is not ISO 3166-1 alpha-2`);

  const mlsTypeScope = scopes.find((s) => s.type === 'MLS_TYPE');
  const mlsType = mlsTypeScope?.instanceIdentifier ?? 'FAILURE_ONLY';
  if (mlsType !== 'ALWAYS_SEND' && mlsType !== 'FAILURE_ONLY')
    fail('PEPPOL_SBDH_MLS_TYPE_INVALID', `MLS_TYPE "${mlsType}" is neither ALWAYS_SEND nor FAILURE_ONLY`);
  const mlsTo = mlsToOf(scopes.find((s) => s.type === 'MLS_TO'));

  // The header must describe the document it carries: a router reads only the header. A non-XML payload in its
  // BinaryContent/TextContent wrapper has no root of its own to compare: peppol-commons (PeppolSBDHDataReader)
  // skips Standard, Type and TypeVersion for it, and so do we.
  const nonXml =
    businessMessage.namespaceURI === SBDH_PAYLOAD_NS && NON_XML_PAYLOADS.has(businessMessage.localName);
  const root = rootOf(documentType);
  if (!nonXml && (standard !== businessMessage.namespaceURI || standard !== root.ns)) {
    fail(
      'PEPPOL_SBDH_STANDARD_MISMATCH',
      `Standard "${standard}" differs from the business document's namespace or the document type`,
    );
  }
  if (!nonXml && (type !== businessMessage.localName || type !== root.localName))
    fail(
      'PEPPOL_SBDH_STANDARD_MISMATCH',
      `Type "${type}" differs from the business document's root or the document type`,
    );
  if (!nonXml && typeVersion !== documentType.version)
    fail(
      'PEPPOL_SBDH_STANDARD_MISMATCH',
      `TypeVersion "${typeVersion}" differs from the document type's version ${documentType.version}`,
    );

  const parsed: PeppolSbdh = Object.freeze({
    sender,
    receiver,
    standard,
    typeVersion,
    type,
    instanceIdentifier,
    creationDateAndTime,
    creationTime,
    documentType,
    process,
    countryC1,
    ...(mlsTo ? { mlsTo } : {}),
    mlsType: mlsType as MlsType,
    scopes: Object.freeze(scopes),
  });
  return { header: parsed, businessMessage, document };
}
