import { QerdsError, systemClock, uuidIdGenerator } from '../../core/index.js';
import type { SigningIdentity } from '../../pki/types.js';
import { ebmsError, type EbmsErrorCode } from '../model/ebms-errors.js';
import { appendMessageInfo, buildSoapSkeleton, ebElement } from './envelope-build.js';
import { locateSoapParts } from './envelope-parse.js';
import { NS } from '../model/namespaces.js';
import type { SignatureReference, SignalOptions } from '../model/types.js';
import { signEnvelope } from '../security/ws-security-sign.js';
import { childElements } from '../../xml/index.js';

function newMessageId(options: SignalOptions): string {
  return `${(options.idGenerator ?? uuidIdGenerator).next()}@qerds`;
}

/**
 * The AS4 non-repudiation receipt (AS4 profile §5.1.8, ebbp-signals-2.0): a signed SignalMessage whose
 * eb:Receipt holds ebbp:NonRepudiationInformation with one ebbp:MessagePartNRInformation per ds:Reference
 * of the user message's signature, copied as received. Without references (an unsigned message) it
 * carries a copy of the eb:UserMessage instead (reception awareness only).
 */
export function buildReceipt(
  userMessageDoc: Document,
  signedInfoReferences: readonly SignatureReference[],
  identity: SigningIdentity,
  options: SignalOptions = {},
): Document {
  const parts = locateSoapParts(userMessageDoc);
  const userMessage = childElements(parts.messaging, NS.eb, 'UserMessage')[0];
  const messageId =
    userMessage &&
    childElements(
      childElements(userMessage, NS.eb, 'MessageInfo')[0] ?? userMessage,
      NS.eb,
      'MessageId',
    )[0]?.textContent?.trim();
  if (!userMessage || !messageId)
    throw new QerdsError('AS4_EBMS_0009', 'no eb:UserMessage/MessageInfo/MessageId to acknowledge');
  const { document: doc, messaging } = buildSoapSkeleton(options.soapVersion ?? parts.soapVersion);
  const signal = ebElement(doc, messaging, 'SignalMessage');
  appendMessageInfo(doc, signal, {
    timestamp: (options.clock ?? systemClock).now(),
    messageId: newMessageId(options),
    refToMessageId: messageId,
  });
  const receipt = ebElement(doc, signal, 'Receipt');
  if (signedInfoReferences.length > 0) {
    const nri = doc.createElementNS(NS.ebbp, 'ebbp:NonRepudiationInformation');
    nri.setAttributeNS(NS.xmlns, 'xmlns:ebbp', NS.ebbp);
    receipt.appendChild(nri);
    for (const ref of signedInfoReferences) {
      const part = doc.createElementNS(NS.ebbp, 'ebbp:MessagePartNRInformation');
      part.appendChild(doc.importNode(ref.element, true));
      nri.appendChild(part);
    }
  } else {
    receipt.appendChild(doc.importNode(userMessage, true));
  }
  signEnvelope(doc, [], identity);
  return doc;
}

/**
 * An ebMS Error signal (ebMS 3.0 Core §6.2) for one error of the table, signed when an identity is given.
 * The Body carries a SOAP Fault as well (§6.6: failures are reported with Fault sending): Sender for
 * problems with the message, Receiver for ours.
 */
export function buildErrorSignal(
  refToMessageId: string | undefined,
  ebmsCode: EbmsErrorCode,
  detail: string | undefined,
  identity?: SigningIdentity,
  options: SignalOptions = {},
): Document {
  const def = ebmsError(ebmsCode);
  const soapVersion = options.soapVersion ?? '1.2';
  const { document: doc, messaging, body } = buildSoapSkeleton(soapVersion);
  const signal = ebElement(doc, messaging, 'SignalMessage');
  appendMessageInfo(doc, signal, {
    timestamp: (options.clock ?? systemClock).now(),
    messageId: newMessageId(options),
    ...(refToMessageId ? { refToMessageId } : {}),
  });
  const error = ebElement(doc, signal, 'Error', undefined, {
    category: def.category,
    errorCode: def.code,
    origin: def.origin,
    refToMessageInError: refToMessageId,
    severity: def.severity,
    shortDescription: def.shortDescription,
  });
  const description = ebElement(doc, error, 'Description', def.description);
  description.setAttributeNS(NS.xml, 'xml:lang', 'en');
  if (detail) ebElement(doc, error, 'ErrorDetail', detail.slice(0, 1000));
  if (def.severity === 'failure')
    appendFault(
      doc,
      body,
      soapVersion,
      receiverFault(ebmsCode),
      `${def.shortDescription}: ${def.description}`,
    );
  if (identity) signEnvelope(doc, [], identity);
  return doc;
}

/** Errors caused on our side (or by the network), as opposed to a bad incoming message. */
function receiverFault(code: EbmsErrorCode): boolean {
  return ['EBMS:0004', 'EBMS:0005', 'EBMS:0201', 'EBMS:0202'].includes(code);
}

function appendFault(
  doc: Document,
  body: Element,
  soapVersion: '1.1' | '1.2',
  receiver: boolean,
  reason: string,
): void {
  const env = body.namespaceURI!;
  const fault = doc.createElementNS(env, 'env:Fault');
  body.appendChild(fault);
  if (soapVersion === '1.2') {
    const code = doc.createElementNS(env, 'env:Code');
    const value = doc.createElementNS(env, 'env:Value');
    value.appendChild(doc.createTextNode(receiver ? 'env:Receiver' : 'env:Sender'));
    code.appendChild(value);
    const reasonEl = doc.createElementNS(env, 'env:Reason');
    const text = doc.createElementNS(env, 'env:Text');
    text.setAttributeNS(NS.xml, 'xml:lang', 'en');
    text.appendChild(doc.createTextNode(reason));
    reasonEl.appendChild(text);
    fault.appendChild(code);
    fault.appendChild(reasonEl);
  } else {
    const code = doc.createElement('faultcode');
    code.appendChild(doc.createTextNode(receiver ? 'env:Server' : 'env:Client'));
    const text = doc.createElement('faultstring');
    text.appendChild(doc.createTextNode(reason));
    fault.appendChild(code);
    fault.appendChild(text);
  }
}
