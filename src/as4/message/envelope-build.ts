import { DOMImplementation } from '@xmldom/xmldom';
import { NS } from '../model/namespaces.js';
import type { PartyRef, Property, SoapVersion, UserMessage } from '../model/types.js';

/** wsu:Id values of the parts we sign (unique in the document; any NCName would do). */
export const MESSAGING_ID = 'id-messaging';
export const BODY_ID = 'id-body';

export interface SoapSkeleton {
  readonly document: Document;
  readonly header: Element;
  readonly body: Element;
  readonly messaging: Element;
}

const soapNs = (v: SoapVersion) => (v === '1.2' ? NS.soap12 : NS.soap11);

/** `env:Envelope` with `env:Header/eb:Messaging` (mustUnderstand, wsu:Id) and an empty `env:Body` (wsu:Id). */
export function buildSoapSkeleton(soapVersion: SoapVersion = '1.2'): SoapSkeleton {
  const env = soapNs(soapVersion);
  const document = new DOMImplementation().createDocument(env, 'env:Envelope', null);
  const root = document.documentElement!;
  root.setAttributeNS(NS.xmlns, 'xmlns:env', env);
  const header = document.createElementNS(env, 'env:Header');
  const body = document.createElementNS(env, 'env:Body');
  root.appendChild(header);
  root.appendChild(body);
  const messaging = document.createElementNS(NS.eb, 'eb:Messaging');
  messaging.setAttributeNS(NS.xmlns, 'xmlns:eb', NS.eb);
  messaging.setAttributeNS(NS.xmlns, 'xmlns:wsu', NS.wsu);
  // SOAP 1.2 mustUnderstand is xs:boolean ("true"); SOAP 1.1 uses "1" (AS4 §5.1.x / ebMS 3 §5.2.1).
  messaging.setAttributeNS(env, 'env:mustUnderstand', soapVersion === '1.2' ? 'true' : '1');
  messaging.setAttributeNS(NS.wsu, 'wsu:Id', MESSAGING_ID);
  header.appendChild(messaging);
  body.setAttributeNS(NS.xmlns, 'xmlns:wsu', NS.wsu);
  body.setAttributeNS(NS.wsu, 'wsu:Id', BODY_ID);
  return { document, header, body, messaging };
}

export function ebElement(
  doc: Document,
  parent: Element,
  localName: string,
  text?: string,
  attrs: Record<string, string | undefined> = {},
): Element {
  const el = doc.createElementNS(NS.eb, `eb:${localName}`);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  if (text !== undefined) el.appendChild(doc.createTextNode(text));
  parent.appendChild(el);
  return el;
}

/** eb:MessageInfo: Timestamp (UTC, `Z`), MessageId, RefToMessageId? */
export function appendMessageInfo(
  doc: Document,
  parent: Element,
  info: { timestamp: Date; messageId: string; refToMessageId?: string },
): void {
  const mi = ebElement(doc, parent, 'MessageInfo');
  ebElement(doc, mi, 'Timestamp', info.timestamp.toISOString());
  ebElement(doc, mi, 'MessageId', info.messageId);
  if (info.refToMessageId !== undefined) ebElement(doc, mi, 'RefToMessageId', info.refToMessageId);
}

function appendParty(doc: Document, parent: Element, name: 'From' | 'To', party: PartyRef): void {
  const el = ebElement(doc, parent, name);
  ebElement(doc, el, 'PartyId', party.partyId, { type: party.partyIdType });
  ebElement(doc, el, 'Role', party.role);
}

function appendProperties(doc: Document, parent: Element, props: readonly Property[]): void {
  for (const p of props) ebElement(doc, parent, 'Property', p.value, { name: p.name, type: p.type });
}

/**
 * The SOAP envelope of an AS4 UserMessage (ebMS 3.0 Core §5.2.2): header only, payloads travel as MIME
 * parts referenced by `eb:PartInfo/@href="cid:…"`, so the Body is empty (AS4 / eDelivery).
 */
export function buildUserMessageEnvelope(
  msg: UserMessage,
  options: { soapVersion?: SoapVersion } = {},
): Document {
  const { document: doc, messaging } = buildSoapSkeleton(options.soapVersion ?? '1.2');
  const um = ebElement(doc, messaging, 'UserMessage');
  appendMessageInfo(doc, um, msg);
  const pi = ebElement(doc, um, 'PartyInfo');
  appendParty(doc, pi, 'From', msg.from);
  appendParty(doc, pi, 'To', msg.to);
  const ci = ebElement(doc, um, 'CollaborationInfo');
  const c = msg.collaboration;
  if (c.agreementRef !== undefined) ebElement(doc, ci, 'AgreementRef', c.agreementRef);
  ebElement(doc, ci, 'Service', c.service, { type: c.serviceType });
  ebElement(doc, ci, 'Action', c.action);
  ebElement(doc, ci, 'ConversationId', c.conversationId);
  // The schema wants 1..n Property in MessageProperties and 1..n PartInfo in PayloadInfo: omit when empty.
  if (msg.messageProperties.length > 0)
    appendProperties(doc, ebElement(doc, um, 'MessageProperties'), msg.messageProperties);
  if (msg.payloads.length > 0) {
    const pl = ebElement(doc, um, 'PayloadInfo');
    for (const part of msg.payloads) {
      const pe = ebElement(doc, pl, 'PartInfo', undefined, { href: part.href });
      appendProperties(doc, ebElement(doc, pe, 'PartProperties'), [
        { name: 'MimeType', value: part.mimeType },
        ...part.properties,
      ]);
    }
  }
  return doc;
}
