import { canonicalElement, canonicalText, type CanonicalAttribute } from '../../xml/index.js';
import { NS } from '../model/namespaces.js';
import type { PartyRef, Property, SoapVersion, UserMessage } from '../model/types.js';
import { parseXml } from './xml-util.js';

/*
 * The SOAP envelopes we send, written as text (no DOM). eb:Messaging and env:Body are the parts a signature
 * covers: each is written in its Exclusive C14N form (xml/canonical-text.ts), declaring on itself every namespace
 * it uses, so that the text written is exactly the octets digested (ws-security-sign.ts) wherever it stands.
 */

/** wsu:Id values of the parts we sign (unique in the document; any NCName would do). */
export const MESSAGING_ID = 'id-messaging';
export const BODY_ID = 'id-body';

export const soapNs = (v: SoapVersion): string => (v === '1.2' ? NS.soap12 : NS.soap11);

/** SOAP 1.2 mustUnderstand is xs:boolean ("true"); SOAP 1.1 uses "1" (AS4 §5.1.x / ebMS 3 §5.2.1). */
export const mustUnderstandValue = (v: SoapVersion): string => (v === '1.2' ? 'true' : '1');

/**
 * `env:Envelope` (prefix env) around the header blocks and the Body, all given as text, as sent: NEL, LINE
 * SEPARATOR and PARAGRAPH SEPARATOR written as character references. Those can stand only in character data and
 * attribute values (no name holds them); a parser applying XML 1.1 line-end handling (xmldom's DOMParser by
 * default; ours follows XML 1.0 and keeps them) reads the raw character as a line feed (a space in an attribute),
 * so such a verifier would digest other octets than the canonical text we signed, while every parser reads a
 * character reference as the character itself.
 */
export function envelopeXml(soapVersion: SoapVersion, headerBlocks: string, body: string): string {
  const xml = `<env:Envelope xmlns:env="${soapNs(soapVersion)}"><env:Header>${headerBlocks}</env:Header>${body}</env:Envelope>`;
  return XML11_LINE_ENDS.test(xml) ? xml.replace(XML11_LINE_ENDS_ALL, lineEndReference) : xml;
}

const XML11_LINE_ENDS = /[\u0085\u2028\u2029]/;
const XML11_LINE_ENDS_ALL = /[\u0085\u2028\u2029]/g;
const lineEndReference = (c: string): string => `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`;

/** `eb:Messaging` (mustUnderstand, wsu:Id) in canonical form, `content` being canonical text inside it. */
export function messagingXml(soapVersion: SoapVersion, content: string): string {
  const env = soapNs(soapVersion);
  return canonicalElement(
    'eb:Messaging',
    [
      ['eb', NS.eb],
      ['env', env],
      ['wsu', NS.wsu],
    ],
    [
      [NS.wsu, 'Id', 'wsu:Id', MESSAGING_ID],
      [env, 'mustUnderstand', 'env:mustUnderstand', mustUnderstandValue(soapVersion)],
    ],
    content,
  );
}

/** `env:Body` (wsu:Id) in canonical form; empty for AS4 messages (payloads travel as MIME parts). */
export function bodyXml(soapVersion: SoapVersion, content = ''): string {
  return canonicalElement(
    'env:Body',
    [
      ['env', soapNs(soapVersion)],
      ['wsu', NS.wsu],
    ],
    [[NS.wsu, 'Id', 'wsu:Id', BODY_ID]],
    content,
  );
}

/** An `eb:` element inside eb:Messaging (which declares the prefix): unqualified attributes, undefined ones left out. */
export function ebXml(
  localName: string,
  content = '',
  attributes: Readonly<Record<string, string | undefined>> = {},
): string {
  const attrs: CanonicalAttribute[] = [];
  for (const [name, value] of Object.entries(attributes))
    if (value !== undefined) attrs.push(['', name, name, value]);
  return canonicalElement(`eb:${localName}`, [], attrs, content);
}

/** An `eb:` element holding text. */
export function ebText(
  localName: string,
  text: string,
  attributes: Readonly<Record<string, string | undefined>> = {},
): string {
  return ebXml(localName, canonicalText(text), attributes);
}

/** eb:MessageInfo: Timestamp (UTC, `Z`), MessageId, RefToMessageId? */
export function messageInfoXml(info: {
  timestamp: Date;
  messageId: string;
  refToMessageId?: string;
}): string {
  return ebXml(
    'MessageInfo',
    ebText('Timestamp', info.timestamp.toISOString()) +
      ebText('MessageId', info.messageId) +
      (info.refToMessageId !== undefined ? ebText('RefToMessageId', info.refToMessageId) : ''),
  );
}

function partyXml(name: 'From' | 'To', party: PartyRef): string {
  return ebXml(
    name,
    ebText('PartyId', party.partyId, { type: party.partyIdType }) + ebText('Role', party.role),
  );
}

function propertiesXml(props: readonly Property[]): string {
  return props.map((p) => ebText('Property', p.value, { name: p.name, type: p.type })).join('');
}

/** eb:UserMessage (ebMS 3.0 Core §5.2.2), canonical text inside eb:Messaging. */
export function userMessageXml(msg: UserMessage): string {
  const c = msg.collaboration;
  const collaboration =
    (c.agreementRef !== undefined ? ebText('AgreementRef', c.agreementRef) : '') +
    ebText('Service', c.service, { type: c.serviceType }) +
    ebText('Action', c.action) +
    ebText('ConversationId', c.conversationId);
  // The schema wants 1..n Property in MessageProperties and 1..n PartInfo in PayloadInfo: omit when empty.
  const properties =
    msg.messageProperties.length > 0 ? ebXml('MessageProperties', propertiesXml(msg.messageProperties)) : '';
  const payloads =
    msg.payloads.length > 0
      ? ebXml(
          'PayloadInfo',
          msg.payloads
            .map((part) =>
              ebXml(
                'PartInfo',
                ebXml(
                  'PartProperties',
                  propertiesXml([{ name: 'MimeType', value: part.mimeType }, ...part.properties]),
                ),
                { href: part.href },
              ),
            )
            .join(''),
        )
      : '';
  return ebXml(
    'UserMessage',
    messageInfoXml(msg) +
      ebXml('PartyInfo', partyXml('From', msg.from) + partyXml('To', msg.to)) +
      ebXml('CollaborationInfo', collaboration) +
      properties +
      payloads,
  );
}

/**
 * The SOAP envelope of an AS4 UserMessage, unsigned, as a DOM (for callers that change or sign it as a DOM:
 * tests; what we send is built as text by packUserMessage). Header only: payloads travel as MIME parts
 * referenced by `eb:PartInfo/@href="cid:…"`, so the Body is empty (AS4 / eDelivery).
 */
export function buildUserMessageEnvelope(
  msg: UserMessage,
  options: { soapVersion?: SoapVersion } = {},
): Document {
  const v = options.soapVersion ?? '1.2';
  return parseXml(envelopeXml(v, messagingXml(v, userMessageXml(msg)), bodyXml(v)));
}
