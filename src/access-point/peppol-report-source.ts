import { isQerdsError, QerdsError } from '../core/index.js';
import { certFromBase64 } from '../as4/index.js';
import { PEPPOL_AS4_TRANSPORT_PROFILE } from '../directory/index.js';
import { CAC, CBC, formatIdentifier, parseSbd, type PeppolExchangeRecord } from '../peppol/index.js';
import type { Store, StoredMessage } from '../store/index.js';
import { descendants } from '../xml/index.js';
import {
  certificateSeatId,
  DEFAULT_COUNTRY_C1,
  peppolParticipant,
  peppolServiceOf,
  readAtMost,
} from './as4-peppol.js';

const MAX_SBD_BYTES = 16 * 1024 * 1024;
/** Messages read per report; a period with more fails the report rather than under-count it. */
const MAX_MESSAGES = 1_000_000;

/**
 * The Peppol exchanges in the store, as reporting's records (peppol/reporting.ts), exchanged in [since, until):
 * - sent (C2): a message of ours whose one part is a JP PINT UBL document and for which C3 returned its signed
 *   receipt; the exchange time is that receipt's arrival, the other service provider the seat id (CN) of the
 *   certificate in the receipt's WS-Security header, C1's country the COUNTRY_C1 we wrote (`DEFAULT_COUNTRY_C1`),
 *   the end user C1.
 * - received (C3): a message stored as a Peppol SBD and not refused; the exchange time is its first evidence's
 *   (reception), the other service provider C2's PartyId (its seat id), C1's country the SBDH COUNTRY_C1, C4's
 *   country the buyer's (`AccountingCustomerParty`) of the UBL document, the end user C4.
 * Messages that are not Peppol (ERDS traffic on the same store) are left out. A Peppol AP knows its end users'
 * countries from onboarding, which qerds-ap does not record: the buyer's address is the stand-in.
 */
export async function peppolExchangeRecords(
  store: Store,
  range: { readonly since: Date; readonly until: Date },
): Promise<PeppolExchangeRecord[]> {
  // The messages with a receipt or an evidence in the period: every exchange of the period is among them.
  const messages = await store.listMessagesActiveBetween({ ...range, limit: MAX_MESSAGES });
  if (messages.length >= MAX_MESSAGES)
    throw new QerdsError(
      'PEPPOL_REPORT_INCOMPLETE',
      `the store holds ${MAX_MESSAGES} messages or more active in the period`,
    );
  const serviceOf = peppolServiceOf(store.blobs);
  const inRange = (t: Date) => t >= range.since && t < range.until;
  const records: PeppolExchangeRecord[] = [];
  for (const m of messages) {
    if (m.submittedAt >= range.until) continue;
    const record = m.role === 'sender-ap' ? await sent(m) : await received(m);
    if (record && inRange(record.exchangeTime)) records.push(record);
  }
  return records;

  async function sent(m: StoredMessage): Promise<PeppolExchangeRecord | undefined> {
    const receipt = (await store.listPeerReceipts(m.id))[0];
    if (!receipt || receipt.receivedAt < range.since) return undefined;
    const service = await serviceOf(m.parts);
    if (!service) return undefined;
    return {
      direction: 'sending',
      exchangeTime: receipt.receivedAt,
      otherServiceProvider: receiptSigner(receipt.xml, m.id),
      documentType: service.documentType,
      process: service.process,
      transportProtocol: PEPPOL_AS4_TRANSPORT_PROFILE,
      c1CountryCode: DEFAULT_COUNTRY_C1,
      endUserId: formatIdentifier(peppolParticipant(m.sender, false)),
    };
  }

  async function received(m: StoredMessage): Promise<PeppolExchangeRecord | undefined> {
    if (m.state === 'rejected' || m.parts.length !== 1 || m.parts[0]!.partId !== 'sbd') return undefined;
    let sbd;
    try {
      const xml = await readAtMost(store.blobs.get(m.parts[0]!.sha256), MAX_SBD_BYTES);
      sbd = parseSbd(xml.toString('utf8'));
    } catch (error) {
      if (isQerdsError(error)) return undefined;
      throw error;
    }
    const first = (await store.listEvidence(m.id))[0];
    const buyer = descendants(sbd.businessMessage, CAC, 'AccountingCustomerParty')[0];
    const country = buyer && descendants(buyer, CAC, 'Country')[0];
    const c4 = country && descendants(country, CBC, 'IdentificationCode')[0]?.textContent?.trim();
    return {
      direction: 'receiving',
      exchangeTime: first?.eventTime ?? m.submittedAt,
      otherServiceProvider: m.peer ?? 'unknown',
      documentType: sbd.header.documentType,
      process: sbd.header.process,
      transportProtocol: PEPPOL_AS4_TRANSPORT_PROFILE,
      c1CountryCode: sbd.header.countryC1,
      ...(c4 ? { c4CountryCode: c4 } : {}),
      endUserId: formatIdentifier(sbd.header.receiver),
    };
  }
}

/** The seat id (CN) of the certificate that signed C3's receipt (its wsse:BinarySecurityToken). */
function receiptSigner(xml: string, messageId: string): string {
  const token = /<(?:\w+:)?BinarySecurityToken\b[^>]*>([^<]+)</.exec(xml)?.[1];
  const certificate = token ? certFromBase64(token) : undefined;
  const seat = certificate && certificateSeatId(certificate);
  if (!seat)
    throw new QerdsError(
      'PEPPOL_REPORT_INCOMPLETE',
      `the receipt of message ${messageId} carries no Peppol AP certificate (CN a seat id): its service provider is unknown`,
    );
  return seat;
}
