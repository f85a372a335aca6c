import { QerdsError } from '../../core/index.js';
import { EBMS_DEFAULT_MPC, NS } from '../model/namespaces.js';
import type {
  ErrorSignal,
  ParsedEnvelope,
  ParsedReceipt,
  ParsedSignalInfo,
  PartInfo,
  PartyRef,
  Property,
  SoapVersion,
  UserMessage,
} from '../model/types.js';
import { allElements, assertNoProcessingInstructions, isNs, onlyChild, parseXml } from './xml-util.js';
import { childElements, isElement, textOf } from '../../xml/index.js';

const BAD = 'AS4_EBMS_0009';
const bad = (why: string): never => {
  throw new QerdsError(BAD, `invalid ebMS header: ${why}`);
};

export interface SoapParts {
  readonly soapVersion: SoapVersion;
  readonly envelope: Element;
  readonly header: Element;
  readonly body: Element;
  /** The one eb:Messaging that is a child of the SOAP Header: the element a processor reads. */
  readonly messaging: Element;
}

/** No character data between the elements of a SOAP structure (only whitespace). */
function assertElementOnly(el: Element): void {
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 3 || n.nodeType === 4) {
      if ((n.nodeValue ?? '').trim() !== '') bad(`text content in ${el.localName}`);
    }
  }
}

/**
 * Find Envelope/Header/Body and the header's eb:Messaging, refusing anything ambiguous: exactly one
 * Header then one Body, exactly one eb:Messaging child of the Header. The signature verifier and the
 * parser both use this function, so they agree on which elements "the" Messaging and Body are.
 */
export function locateSoapParts(doc: Document): SoapParts {
  const envelope = doc.documentElement;
  if (!envelope || envelope.localName !== 'Envelope') return bad('root is not a SOAP Envelope');
  const soapNs = envelope.namespaceURI;
  const soapVersion: SoapVersion =
    soapNs === NS.soap12 ? '1.2' : soapNs === NS.soap11 ? '1.1' : bad(`unknown SOAP namespace ${soapNs}`);
  assertElementOnly(envelope);
  const kids = childElements(envelope);
  const [header, body] = kids;
  if (
    kids.length !== 2 ||
    !header ||
    !body ||
    !isNs(header, soapNs!, 'Header') ||
    !isNs(body, soapNs!, 'Body')
  ) {
    return bad('Envelope must contain exactly a Header and a Body');
  }
  const messagings = childElements(header, NS.eb, 'Messaging');
  if (messagings.length !== 1) return bad(`expected one eb:Messaging header, found ${messagings.length}`);
  return { soapVersion, envelope, header, body, messaging: messagings[0]! };
}

function parseDate(el: Element): Date {
  const s = textOf(el);
  // xsd:dateTime; ebMS requires UTC, but a missing zone is read as UTC too (common in the wild).
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.test(s))
    bad(`invalid Timestamp ${s}`);
  const d = new Date(/Z|[+-]\d{2}:\d{2}$/.test(s) ? s : `${s}Z`);
  return Number.isNaN(d.getTime()) ? bad(`invalid Timestamp ${s}`) : d;
}

function required(el: Element, localName: string): Element {
  return onlyChild(el, NS.eb, localName, BAD, true);
}

function nonEmpty(el: Element): string {
  const s = textOf(el);
  return s === '' ? bad(`${el.localName} is empty`) : s;
}

const looksLikeUri = (s: string) => /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(s);

function parseMessageInfo(parent: Element): ParsedSignalInfo {
  const mi = required(parent, 'MessageInfo');
  const ref = onlyChild(mi, NS.eb, 'RefToMessageId', BAD, false);
  return {
    timestamp: parseDate(required(mi, 'Timestamp')),
    messageId: nonEmpty(required(mi, 'MessageId')),
    ...(ref ? { refToMessageId: nonEmpty(ref) } : {}),
  };
}

function parseParty(el: Element): PartyRef {
  const ids = childElements(el, NS.eb, 'PartyId');
  const first = ids[0] ?? bad(`${el.localName} without PartyId`);
  const type = first.getAttribute('type') || undefined;
  const partyId = nonEmpty(first);
  // ebMS 3 §5.2.2.4: without @type the PartyId must be a URI (EBMS:0003 otherwise).
  if (type === undefined && !looksLikeUri(partyId))
    throw new QerdsError('AS4_EBMS_0003', `PartyId "${partyId}" has no type and is not a URI`);
  return { partyId, ...(type ? { partyIdType: type } : {}), role: nonEmpty(required(el, 'Role')) };
}

function parseProperties(el: Element | undefined): Property[] {
  if (!el) return [];
  return childElements(el, NS.eb, 'Property').map((p) => {
    const name = p.getAttribute('name') || bad('Property without name');
    const type = p.getAttribute('type') || undefined;
    return { name, value: textOf(p), ...(type ? { type } : {}) };
  });
}

function parseUserMessage(um: Element): UserMessage {
  const info = parseMessageInfo(um);
  const partyInfo = required(um, 'PartyInfo');
  const ci = required(um, 'CollaborationInfo');
  const service = required(ci, 'Service');
  const serviceType = service.getAttribute('type') || undefined;
  const serviceValue = nonEmpty(service);
  if (serviceType === undefined && !looksLikeUri(serviceValue))
    throw new QerdsError('AS4_EBMS_0003', `Service "${serviceValue}" has no type and is not a URI`);
  const agreement = onlyChild(ci, NS.eb, 'AgreementRef', BAD, false);
  const payloadInfo = onlyChild(um, NS.eb, 'PayloadInfo', BAD, false);
  const payloads: PartInfo[] = (payloadInfo ? childElements(payloadInfo, NS.eb, 'PartInfo') : []).map(
    (pi) => {
      const href = pi.getAttribute('href') ?? '';
      const props = parseProperties(onlyChild(pi, NS.eb, 'PartProperties', BAD, false));
      const mime = props.find((p) => p.name === 'MimeType');
      return { href, mimeType: mime?.value ?? '', properties: props.filter((p) => p !== mime) };
    },
  );
  return {
    messageId: info.messageId,
    timestamp: info.timestamp,
    ...(info.refToMessageId ? { refToMessageId: info.refToMessageId } : {}),
    from: parseParty(required(partyInfo, 'From')),
    to: parseParty(required(partyInfo, 'To')),
    collaboration: {
      ...(agreement ? { agreementRef: nonEmpty(agreement) } : {}),
      service: serviceValue,
      ...(serviceType ? { serviceType } : {}),
      action: nonEmpty(required(ci, 'Action')),
      conversationId: textOf(required(ci, 'ConversationId')),
    },
    messageProperties: parseProperties(onlyChild(um, NS.eb, 'MessageProperties', BAD, false)),
    payloads,
  };
}

function parseReceipt(signal: ParsedSignalInfo, receipt: Element): ParsedReceipt {
  if (!signal.refToMessageId) bad('Receipt without RefToMessageId');
  const nri = childElements(receipt, NS.ebbp, 'NonRepudiationInformation');
  if (nri.length > 1) bad('more than one NonRepudiationInformation');
  const refs = nri[0]
    ? childElements(nri[0], NS.ebbp, 'MessagePartNRInformation').flatMap((p) =>
        childElements(p, NS.ds, 'Reference'),
      )
    : [];
  return {
    messageId: signal.messageId,
    timestamp: signal.timestamp,
    refToMessageId: signal.refToMessageId!,
    nonRepudiation: refs.map((r) => ({
      uri: r.getAttribute('URI') ?? '',
      digestMethod: onlyChild(r, NS.ds, 'DigestMethod', BAD, true).getAttribute('Algorithm') ?? '',
      digestValue: textOf(onlyChild(r, NS.ds, 'DigestValue', BAD, true)).replace(/\s+/g, ''),
    })),
  };
}

function parseError(e: Element): ErrorSignal {
  const attr = (n: string) => e.getAttribute(n) || undefined;
  const desc = onlyChild(e, NS.eb, 'Description', BAD, false);
  const detail = onlyChild(e, NS.eb, 'ErrorDetail', BAD, false);
  const out: Record<string, string | undefined> = {
    errorCode: attr('errorCode') ?? bad('Error without errorCode'),
    severity: attr('severity') ?? bad('Error without severity'),
    category: attr('category'),
    shortDescription: attr('shortDescription'),
    origin: attr('origin'),
    refToMessageInError: attr('refToMessageInError'),
    description: desc ? textOf(desc) : undefined,
    errorDetail: detail ? textOf(detail) : undefined,
  };
  return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== undefined)) as unknown as ErrorSignal;
}

/**
 * Parse an AS4 envelope into a UserMessage, a Receipt or an Error signal. Strict: malformed XML, a
 * misplaced or repeated eb:Messaging, a missing mustUnderstand, bundled message units → QerdsError
 * AS4_EBMS_0009 (or 0003 for inconsistent values).
 */
export function parseEnvelope(input: string | Document): ParsedEnvelope {
  const document = typeof input === 'string' ? parseXml(input) : input;
  assertNoProcessingInstructions(document);
  const { soapVersion, messaging, envelope } = locateSoapParts(document);
  // Exactly one eb:Messaging anywhere: a second one (in another header, in the Body) is a wrapping attempt.
  // A copy inside eb:Receipt (the user message a receipt acknowledges, as some products include it) is content
  // of the receipt, never processed as a header: it does not count.
  if (allElements(document).filter((el) => isNs(el, NS.eb, 'Messaging') && !insideReceipt(el)).length !== 1)
    bad('eb:Messaging occurs more than once');
  const mu = messaging.getAttributeNS(envelope.namespaceURI, 'mustUnderstand');
  if (!(mu === 'true' || mu === '1')) bad('eb:Messaging must carry mustUnderstand="true"');
  const units = childElements(messaging, NS.eb);
  for (const u of units)
    if (u.localName !== 'UserMessage' && u.localName !== 'SignalMessage') bad(`unexpected eb:${u.localName}`);
  // AS4 §2.2 / eDelivery: no bundling, one message unit per message.
  if (units.length !== 1) bad(`expected one message unit, found ${units.length}`);
  const unit = units[0]!;
  if (unit.localName === 'UserMessage')
    return { kind: 'user', soapVersion, document, messaging, message: parseUserMessage(unit) };
  const signal = parseMessageInfo(unit);
  const receipt = onlyChild(unit, NS.eb, 'Receipt', BAD, false);
  const errors = childElements(unit, NS.eb, 'Error');
  if (receipt && errors.length === 0)
    return { kind: 'receipt', soapVersion, document, messaging, receipt: parseReceipt(signal, receipt) };
  if (errors.length > 0 && !receipt)
    return { kind: 'error', soapVersion, document, messaging, signal, errors: errors.map(parseError) };
  const pull = onlyChild(unit, NS.eb, 'PullRequest', BAD, false);
  if (pull && !receipt && errors.length === 0)
    return {
      kind: 'pull',
      soapVersion,
      document,
      messaging,
      signal,
      mpc: pull.getAttribute('mpc') || EBMS_DEFAULT_MPC,
    };
  return bad('SignalMessage must carry one Receipt, PullRequest or Error elements');
}

/** Best effort: the eb:MessageId of a (possibly invalid) message, for refToMessageInError. */
export function peekMessageId(doc: Document | undefined): string | undefined {
  if (!doc) return undefined;
  for (const el of allElements(doc)) {
    if (isNs(el, NS.eb, 'MessageId') && isElement(el.parentNode) && isNs(el.parentNode, NS.eb, 'MessageInfo'))
      return textOf(el) || undefined;
  }
  return undefined;
}

/** Whether `el` lies inside an eb:Receipt (receipt content: NonRepudiationInformation or a copied message). */
function insideReceipt(el: Element): boolean {
  for (let p = el.parentNode; p && isElement(p); p = p.parentNode) if (isNs(p, NS.eb, 'Receipt')) return true;
  return false;
}
