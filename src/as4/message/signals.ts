import { QerdsError, systemClock, uuidIdGenerator } from '../../core/index.js';
import type { SigningIdentity } from '../../pki/types.js';
import { ebmsError, type EbmsErrorCode } from '../model/ebms-errors.js';
import {
  bodyXml,
  ebText,
  ebXml,
  envelopeXml,
  messageInfoXml,
  messagingXml,
  soapNs,
} from './envelope-build.js';
import { locateSoapParts } from './envelope-parse.js';
import { NS } from '../model/namespaces.js';
import type { SignalOptions, SoapVersion, VerifiedReference } from '../model/types.js';
import { signedEnvelopeXml } from '../security/ws-security-sign.js';
import { canonicalElement, canonicalize, canonicalText, childElements } from '../../xml/index.js';
import { parseXml } from './xml-util.js';

function newMessageId(options: SignalOptions): string {
  return `${(options.idGenerator ?? uuidIdGenerator).next()}@qerds`;
}

/**
 * The AS4 non-repudiation receipt (AS4 profile §5.1.8, ebbp-signals-2.0) as text: a signed SignalMessage whose
 * eb:Receipt holds ebbp:NonRepudiationInformation with one ebbp:MessagePartNRInformation per ds:Reference
 * of the user message's signature, copied as received. Without references (an unsigned message) it
 * carries a copy of the eb:UserMessage instead (reception awareness only). A copy is written in its canonical
 * form in the receipt's eb:Messaging (the namespaces declared above it taken into account), so that the
 * signed eb:Messaging is written in canonical form as a whole.
 */
export function receiptXml(
  userMessageDoc: Document,
  signedInfoReferences: readonly VerifiedReference[],
  identity: SigningIdentity,
  options: SignalOptions = {},
): string {
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
  const soapVersion = options.soapVersion ?? parts.soapVersion;
  // What eb:Messaging (messagingXml) declares, and inside it ebbp:NonRepudiationInformation.
  const inMessaging = new Map([
    ['eb', NS.eb],
    ['env', soapNs(soapVersion)],
    ['wsu', NS.wsu],
  ]);
  const inNri = new Map([...inMessaging, ['ebbp', NS.ebbp]]);
  const acknowledged =
    signedInfoReferences.length > 0
      ? canonicalElement(
          'ebbp:NonRepudiationInformation',
          [['ebbp', NS.ebbp]],
          [],
          signedInfoReferences
            .map(
              (ref) =>
                `<ebbp:MessagePartNRInformation>${canonicalize(ref.element, [], inNri)}</ebbp:MessagePartNRInformation>`,
            )
            .join(''),
        )
      : canonicalize(userMessage, [], inMessaging);
  const signal = ebXml(
    'SignalMessage',
    messageInfoXml({
      timestamp: (options.clock ?? systemClock).now(),
      messageId: newMessageId(options),
      refToMessageId: messageId,
    }) + ebXml('Receipt', acknowledged),
  );
  return signedEnvelopeXml(soapVersion, messagingXml(soapVersion, signal), bodyXml(soapVersion), identity)
    .xml;
}

/** receiptXml as a DOM (for callers that read or change it as one: tests). */
export function buildReceipt(
  userMessageDoc: Document,
  signedInfoReferences: readonly VerifiedReference[],
  identity: SigningIdentity,
  options: SignalOptions = {},
): Document {
  return parseXml(receiptXml(userMessageDoc, signedInfoReferences, identity, options));
}

/**
 * An ebMS Error signal (ebMS 3.0 Core §6.2) for one error of the table as text, signed when an identity is
 * given. The Body carries a SOAP Fault as well (§6.6: failures are reported with Fault sending): Sender for
 * problems with the message, Receiver for ours.
 */
export function buildErrorSignal(
  refToMessageId: string | undefined,
  ebmsCode: EbmsErrorCode,
  detail: string | undefined,
  identity?: SigningIdentity,
  options: SignalOptions = {},
): string {
  const def = ebmsError(ebmsCode);
  const soapVersion = options.soapVersion ?? '1.2';
  const error = ebXml(
    'Error',
    canonicalElement(
      'eb:Description',
      [],
      [[NS.xml, 'lang', 'xml:lang', 'en']],
      canonicalText(def.description),
    ) + (detail ? ebText('ErrorDetail', detail.slice(0, 1000)) : ''),
    {
      category: def.category,
      errorCode: def.code,
      origin: def.origin,
      refToMessageInError: refToMessageId,
      severity: def.severity,
      shortDescription: def.shortDescription,
    },
  );
  const signal = ebXml(
    'SignalMessage',
    messageInfoXml({
      timestamp: (options.clock ?? systemClock).now(),
      messageId: newMessageId(options),
      ...(refToMessageId ? { refToMessageId } : {}),
    }) + error,
  );
  const messaging = messagingXml(soapVersion, signal);
  const body = bodyXml(
    soapVersion,
    def.severity === 'failure'
      ? faultXml(soapVersion, receiverFault(ebmsCode), `${def.shortDescription}: ${def.description}`)
      : '',
  );
  return identity
    ? signedEnvelopeXml(soapVersion, messaging, body, identity).xml
    : envelopeXml(soapVersion, messaging, body);
}

/** Errors caused on our side (or by the network), as opposed to a bad incoming message. */
function receiverFault(code: EbmsErrorCode): boolean {
  return ['EBMS:0004', 'EBMS:0005', 'EBMS:0201', 'EBMS:0202'].includes(code);
}

/** The SOAP Fault inside env:Body (canonical text; the Body declares env). */
function faultXml(soapVersion: SoapVersion, receiver: boolean, reason: string): string {
  if (soapVersion === '1.2')
    return (
      `<env:Fault><env:Code><env:Value>${receiver ? 'env:Receiver' : 'env:Sender'}</env:Value></env:Code>` +
      `<env:Reason>${canonicalElement('env:Text', [], [[NS.xml, 'lang', 'xml:lang', 'en']], canonicalText(reason))}</env:Reason></env:Fault>`
    );
  // SOAP 1.1: faultcode and faultstring are unqualified (no default namespace is declared above them).
  return `<env:Fault><faultcode>${receiver ? 'env:Server' : 'env:Client'}</faultcode><faultstring>${canonicalText(reason)}</faultstring></env:Fault>`;
}
