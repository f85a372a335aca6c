import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { definePMode, type UserMessage } from '../../src/as4/index.js';
import {
  as4PeppolHeaderOf,
  assertJpPint,
  assertSbdhConsistent,
  buildSbd,
  buildTransactionStatisticsReport,
  formatIdentifier,
  jpPintDocumentType,
  normaliseRecipient,
  parseDocumentTypeId,
  parseParticipantId,
  parseProcessId,
  parseSbd,
  peppolAs4Profile,
  peppolMessageProperties,
  peppolPModeInput,
  PROCESS_BILLING,
  selectRegistration,
  validateJpPint,
} from '../../src/peppol/index.js';

/**
 * The blocks composed as a later wiring session would: C1 names the buyer by corporate number, C2 checks the
 * invoice, looks the receiver up, wraps the SBD and fills the AS4 header; C3 reads the SBD, holds it against the AS4
 * header and its own SMP record, checks the invoice and counts the exchange. No network: the AS4 leg is its header.
 */
describe('a JP PINT exchange through the Peppol blocks', () => {
  const invoice = readFileSync(
    new URL('../fixtures/peppol/jp-pint/invoice-mixed-rates.xml', import.meta.url),
    'utf8',
  );

  it('goes from a corporate number to a counted, consistent reception', () => {
    // C1 → C2: the buyer named by its corporate number alone.
    const receiver = normaliseRecipient('5011001099999');
    const sender = parseParticipantId('0188:9010401012345');
    expect(assertJpPint(invoice)).toEqual([]);

    // C2: the receiver's SMP registered the PINT base specification with a wildcard.
    const document = jpPintDocumentType('Invoice');
    const registrations = [
      parseDocumentTypeId(
        'peppol-doctype-wildcard::urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote##urn:peppol:pint:billing-1*::2.1',
      ),
      parseDocumentTypeId(
        'peppol-doctype-wildcard::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:peppol:pint:billing-1*::2.1',
      ),
    ];
    const registration = selectRegistration(registrations, document);
    expect(registration?.customization).toBe('urn:peppol:pint:billing-1*');

    const process = parseProcessId(PROCESS_BILLING);
    const sbd = buildSbd(
      {
        sender,
        receiver,
        documentType: document,
        process,
        countryC1: 'JP',
        instanceIdentifier: 'b1f0c2de-3c1a-4f4e-9a51-2c0f9d7e6a10',
        creationTime: new Date('2024-04-30T09:00:00Z'),
      },
      invoice,
    );
    const pmode = definePMode(
      peppolPModeInput({
        id: 'jp',
        initiatorSeatId: 'PJP000123',
        responderSeatId: 'PJP000456',
        process,
        documentType: document,
      }),
    );
    expect(peppolAs4Profile.validate(pmode)).toEqual([]);
    const message: Pick<UserMessage, 'messageProperties' | 'collaboration'> = {
      messageProperties: peppolMessageProperties(sender, receiver),
      collaboration: {
        agreementRef: pmode.agreement,
        service: pmode.service,
        serviceType: pmode.serviceType!,
        action: pmode.action,
        conversationId: 'conv-1',
      },
    };

    // C3: the SBD agrees with the AS4 header and with what this AP's SMP publishes for the receiver.
    const { header, businessMessage } = parseSbd(sbd);
    expect(() =>
      assertSbdhConsistent(header, as4PeppolHeaderOf(message), {
        participant: receiver,
        documentTypes: registrations,
        processes: [process],
      }),
    ).not.toThrow();
    expect(validateJpPint(businessMessage)).toEqual([]);

    // Reporting: one incoming exchange from PJP000123.
    const tsr = buildTransactionStatisticsReport(
      [
        {
          direction: 'receiving',
          exchangeTime: header.creationTime,
          otherServiceProvider: pmode.initiator!.partyId,
          documentType: header.documentType,
          process: header.process,
          transportProtocol: 'peppol-transport-as4-v2_0',
          c1CountryCode: header.countryC1,
          c4CountryCode: 'JP',
          endUserId: formatIdentifier(header.receiver),
        },
      ],
      { period: { start: '2024-04-01', end: '2024-04-30' }, reporterSeatId: 'PJP000456' },
    );
    expect(tsr.total).toEqual({ incoming: 1, outgoing: 0 });
  });

  it('a sender AP that routes to one receiver and addresses the SBD to another is caught at C3', () => {
    const sender = parseParticipantId('0188:9010401012345');
    const routed = normaliseRecipient('5011001099999');
    const other = normaliseRecipient('8012301000001');
    const document = jpPintDocumentType('Invoice');
    const process = parseProcessId(PROCESS_BILLING);
    const sbd = buildSbd(
      {
        sender,
        receiver: other,
        documentType: document,
        process,
        countryC1: 'JP',
        instanceIdentifier: 'x-1',
        creationTime: new Date('2024-04-30T09:00:00Z'),
      },
      invoice,
    );
    const message = {
      messageProperties: peppolMessageProperties(sender, routed),
      collaboration: {
        service: process.value,
        serviceType: process.scheme,
        action: formatIdentifier(document),
        conversationId: 'c',
      },
    };
    let code: string | undefined;
    try {
      assertSbdhConsistent(parseSbd(sbd).header, as4PeppolHeaderOf(message));
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    expect(code).toBe('PEPPOL_SBDH_RECEIVER_MISMATCH');
  });
});
