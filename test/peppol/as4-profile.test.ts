import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { definePMode, ALGORITHM_SETS, type PModeInput, type UserMessage } from '../../src/as4/index.js';
import { ALG as AS4_ALG } from '../../src/as4/model/namespaces.js';
import {
  as4PeppolHeaderOf,
  jpPintDocumentType,
  parseParticipantId,
  parseProcessId,
  parseSbd,
  peppolAs4Profile,
  peppolMessageProperties,
  peppolPModeInput,
  sbdhMismatches,
  seatIdOf,
} from '../../src/peppol/index.js';

const input = () =>
  peppolPModeInput({
    id: 'peppol-jp-invoice',
    initiatorSeatId: 'PJP000123',
    responderSeatId: 'POP000456',
    process: parseProcessId('urn:peppol:bis:billing'),
    documentType: jpPintDocumentType('Invoice'),
  });
const rulesOf = (over: (p: PModeInput) => PModeInput) =>
  peppolAs4Profile.validate(definePMode(over(input()))).map((f) => `${f.severity}:${f.rule}`);

describe('Peppol AS4 profile', () => {
  it('builds a P-Mode the AS4 module accepts and the profile finds nothing to fault in', () => {
    const pmode = definePMode(input());
    expect(peppolAs4Profile.id).toBe('peppol');
    expect(peppolAs4Profile.validate(pmode)).toEqual([]);
    expect(pmode).toMatchObject({
      agreement: 'urn:fdc:peppol.eu:2017:agreements:tia:ap_provider',
      mep: 'push',
      service: 'urn:peppol:bis:billing',
      serviceType: 'cenbii-procid-ubl',
      action:
        'peppol-doctype-wildcard::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:peppol:pint:billing-1@jp-1::2.1',
      initiator: {
        partyId: 'PJP000123',
        partyIdType: 'urn:fdc:peppol.eu:2017:identifiers:ap',
        role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/initiator',
      },
      compress: true,
      security: { algorithmSet: 'edelivery-1.15', encrypt: true },
      receipt: { nonRepudiation: true, replyPattern: 'response' },
    });
  });

  it('means RSA-SHA256, RSA-OAEP and AES-128-GCM by its algorithm set', () => {
    expect(ALGORITHM_SETS[definePMode(input()).security.algorithmSet]).toEqual({
      signature: AS4_ALG.rsaSha256,
      keyProtection: AS4_ALG.rsaOaep,
      contentEncryption: AS4_ALG.aes128Gcm,
    });
  });

  it('does not let a P-Mode change its defaults', () => {
    const p = input();
    (p.security as { encrypt: boolean }).encrypt = false;
    expect(peppolAs4Profile.pmodeDefaults.security).toEqual({
      algorithmSet: 'edelivery-1.15',
      encrypt: true,
    });
    expect(Object.isFrozen(peppolAs4Profile.pmodeDefaults)).toBe(true);
  });

  it.each([
    [
      'another agreement',
      (p: PModeInput) => ({ ...p, agreement: 'urn:as4:agreement' }),
      'fatal:peppol-as4-agreement',
    ],
    [
      'eDelivery 2.0 algorithms',
      (p: PModeInput) => ({ ...p, security: { algorithmSet: 'edelivery-2.0' as const, encrypt: true } }),
      'fatal:peppol-as4-algorithms',
    ],
    [
      'no encryption',
      (p: PModeInput) => ({ ...p, security: { algorithmSet: 'edelivery-1.15' as const, encrypt: false } }),
      'fatal:peppol-as4-encrypt',
    ],
    [
      'receipts without NRI',
      (p: PModeInput) => ({ ...p, receipt: { nonRepudiation: false } }),
      'fatal:peppol-as4-receipt',
    ],
    ['no compression', (p: PModeInput) => ({ ...p, compress: false }), 'warning:peppol-as4-compression'],
    [
      'party type of eDelivery',
      (p: PModeInput) => ({
        ...p,
        initiator: { ...p.initiator!, partyIdType: 'urn:oasis:names:tc:ebcore:partyid-type:unregistered' },
      }),
      'fatal:peppol-as4-initiator',
    ],
    [
      'party id not a seat id',
      (p: PModeInput) => ({ ...p, responder: { ...p.responder!, partyId: 'ap.example' } }),
      'fatal:peppol-as4-responder',
    ],
    [
      'default role',
      (p: PModeInput) => ({
        ...p,
        responder: {
          ...p.responder!,
          role: 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/defaultRole',
        },
      }),
      'fatal:peppol-as4-responder',
    ],
    [
      'service type missing',
      (p: PModeInput) => ({ ...p, serviceType: undefined }),
      'fatal:peppol-as4-service',
    ],
    [
      'action without scheme',
      (p: PModeInput) => ({ ...p, action: jpPintDocumentType('Invoice').value }),
      'fatal:peppol-as4-action',
    ],
    [
      'action of an eDelivery use case',
      (p: PModeInput) => ({ ...p, action: 'Deliver' }),
      'fatal:peppol-as4-action',
    ],
  ])('faults %s', (_what, over, rule) => {
    expect(rulesOf(over)).toEqual([rule]);
  });

  it('reads the seat id from an AP certificate CN', () => {
    expect(seatIdOf(' POP000456 ')).toBe('POP000456');
    expect(seatIdOf('PJP000123')).toBe('PJP000123');
    expect(seatIdOf('CN=POP000456')).toBeUndefined();
    expect(seatIdOf('pop000456')).toBeUndefined();
  });
});

describe('AS4 header values against the SBDH they carry', () => {
  const { header } = parseSbd(
    readFileSync(new URL('../fixtures/peppol/sbdh/jp-pint-invoice-sbd.xml', import.meta.url), 'utf8'),
  );
  const pmode = definePMode(input());
  const message = (
    props = peppolMessageProperties(
      parseParticipantId('0188:9010401012345'),
      parseParticipantId('0188:5011001099999'),
    ),
  ): Pick<UserMessage, 'messageProperties' | 'collaboration'> => ({
    messageProperties: props,
    collaboration: {
      agreementRef: pmode.agreement,
      service: pmode.service,
      serviceType: pmode.serviceType!,
      action: pmode.action,
      conversationId: 'c1',
    },
  });

  it('agrees when the message is built from the same exchange', () => {
    expect(message().messageProperties).toEqual([
      { name: 'originalSender', value: '0188:9010401012345', type: 'iso6523-actorid-upis' },
      { name: 'finalRecipient', value: '0188:5011001099999', type: 'iso6523-actorid-upis' },
    ]);
    expect(sbdhMismatches(header, as4PeppolHeaderOf(message()))).toEqual([]);
  });

  it('a message without finalRecipient matches no SBDH receiver', () => {
    const m = message(message().messageProperties.filter((p) => p.name !== 'finalRecipient'));
    expect(sbdhMismatches(header, as4PeppolHeaderOf(m)).map((x) => x.code)).toEqual([
      'PEPPOL_SBDH_RECEIVER_MISMATCH',
    ]);
  });
});
