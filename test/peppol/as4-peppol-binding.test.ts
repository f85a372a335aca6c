import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { definePMode, type UserMessage } from '../../src/as4/index.js';
import {
  finalPeppolRefusal,
  jpPintRefusal,
  peppolDispatch,
  peppolNotServiced,
  readPeppolDispatch,
  type PeppolDispatchInput,
} from '../../src/access-point/as4-peppol.js';
import { parseParticipantId, QerdsError, type PayloadPart } from '../../src/core/index.js';
import {
  formatIdentifier,
  jpPintDocumentType,
  parseSbd,
  PROCESS_BILLING,
  PROCESS_SCHEME,
} from '../../src/peppol/index.js';
import { createDevPeppolPki, loadSigningIdentity } from '../../src/pki/index.js';
import { peppolJpPintPModes } from '../../src/profiles/index.js';
import { sharedTestPki } from '../helpers/pki.js';

/** The Peppol conventions of the AS4 binding (src/access-point/as4-peppol.ts), without a network. */
const fixture = (path: string) => readFileSync(new URL(`../fixtures/peppol/${path}`, import.meta.url));
const SELLER = parseParticipantId('0188:9010401012345');
const BUYER = parseParticipantId('0188:5011001099999');
const pmodes = peppolJpPintPModes().map((p) => definePMode(p));

const header = (
  sbdReceiver = BUYER,
): Pick<UserMessage, 'messageProperties' | 'collaboration'> & UserMessage => ({
  messageId: 'm@test',
  timestamp: new Date(),
  from: { partyId: 'POP000101', role: 'i' },
  to: { partyId: 'POP000102', role: 'r' },
  collaboration: {
    service: PROCESS_BILLING,
    serviceType: PROCESS_SCHEME,
    action: formatIdentifier(jpPintDocumentType('Invoice')),
    conversationId: 'c',
  },
  messageProperties: [
    { name: 'originalSender', value: '0188:9010401012345', type: 'iso6523-actorid-upis' },
    {
      name: 'finalRecipient',
      value: `${sbdReceiver.scheme}:${sbdReceiver.value}`,
      type: 'iso6523-actorid-upis',
    },
  ],
  payloads: [],
});

describe('Peppol AS4 binding', () => {
  const work = mkdtempSync(join(tmpdir(), 'qerds-peppol-unit-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('C2: the SBD around the submitted invoice, the P-Mode of its document type and the seat ids of both AP certificates', async () => {
    const pki = await createDevPeppolPki({
      from: sharedTestPki(),
      dir: work,
      seats: { c2: 'POP000101', c3: 'POP000102' },
    });
    // The seat ids come from the AS4 (Peppol AP) certificates, not from the e-seals.
    const own = loadSigningIdentity(pki.as4Signing('c2').cert, pki.as4Signing('c2').key).certificate;
    const invoice = fixture('jp-pint/credit-note.xml');
    const input: PeppolDispatchInput = {
      ebmsMessageId: 'e1@qerds-ap',
      sender: SELLER,
      recipient: BUYER,
      submittedAt: new Date('2026-12-01T00:00:00Z'),
      parts: [{ partId: 'p', contentType: 'application/xml', body: invoice }],
      pmodes,
      ownCertificate: own,
      peerCertificatePem: readFileSync(pki.as4Signing('c3').cert, 'utf8'),
    };
    const dispatch = await peppolDispatch(input);
    expect(dispatch.pmode.id).toBe('peppol-jp-pint-creditnote');
    expect(dispatch.collaboration.action).toBe(formatIdentifier(jpPintDocumentType('CreditNote')));
    expect([dispatch.from.partyId, dispatch.to.partyId]).toEqual(['POP000101', 'POP000102']);
    const { header: sbdh } = parseSbd(dispatch.part.body.toString('utf8'));
    expect(sbdh.creationTime.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    // The same instance id on a re-send of the same message.
    expect(parseSbd((await peppolDispatch(input)).part.body.toString('utf8')).header.instanceIdentifier).toBe(
      sbdh.instanceIdentifier,
    );

    const refusal = (over: Partial<PeppolDispatchInput>) =>
      peppolDispatch({ ...input, ...over }).then(
        () => undefined,
        (e: unknown) => e as QerdsError,
      );
    expect(
      await refusal({ parts: [{ ...input.parts[0]!, originalContentType: 'application/xml' }] }),
    ).toMatchObject({ code: 'PEPPOL_SBDH_MALFORMED', details: { retryable: false } });
    expect(await refusal({ peerCertificatePem: undefined })).toMatchObject({ code: 'AS4_PEER_NOT_PINNED' });
    expect(await refusal({ pmodes: pmodes.filter((p) => p.id.endsWith('invoice')) })).toMatchObject({
      code: 'AS4_EBMS_0010',
      details: { retryable: false },
    });
    expect(
      await refusal({
        ownCertificate: loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey).certificate,
      }),
    ).toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('C3: an SBD that agrees with its header passes; a malformed or contradicting one becomes a RelayRejection reason', () => {
    const sbd = fixture('sbdh/jp-pint-invoice-sbd.xml');
    const ok = readPeppolDispatch(header(), [{ body: sbd }]);
    expect(ok.refusal).toBeUndefined();
    expect(ok.recipient).toEqual({ scheme: '0188', value: '5011001099999' });
    const other = parseParticipantId('0188:2011001077770');
    expect(readPeppolDispatch(header(other), [{ body: sbd }]).refusal?.reason).toMatchObject({
      code: 'RB02',
      details: expect.stringMatching(/^PEPPOL_SBDH_RECEIVER_MISMATCH: /),
    });
    const badVersion = readPeppolDispatch(header(), [
      { body: fixture('sbdh/bad-invalid-header-version.xml') },
    ]).refusal;
    expect(badVersion?.error).toMatchObject({
      code: 'AS4_EBMS_0004',
      message: expect.stringMatching(/^PEPPOL_SBDH_HEADER_VERSION: /),
    });
    expect(() => readPeppolDispatch({ ...header(), messageProperties: [] }, [{ body: sbd }])).toThrow(
      expect.objectContaining({ code: 'AS4_EBMS_0009' }),
    );
  });

  it('a Peppol refusal by C3 is final; other errors keep their retry decision', () => {
    const answer = (errorDetail: string) =>
      new QerdsError('AS4_EBMS_0004', 'receiver answered', {
        details: { retryable: true, errors: [{ errorCode: 'EBMS:0004', errorDetail }] },
      });
    expect(finalPeppolRefusal(answer('PEPPOL:NOT_SERVICED'))).toMatchObject({
      details: { retryable: false },
    });
    expect(finalPeppolRefusal(answer('PEPPOL_SBDH_PROCESS_MISMATCH: x'))).toMatchObject({
      details: { retryable: false },
    });
    expect(finalPeppolRefusal(answer('database down'))).toMatchObject({ details: { retryable: true } });
    expect(peppolNotServiced(header())).toMatchObject({
      code: 'AS4_EBMS_0004',
      message: 'PEPPOL:NOT_SERVICED',
    });
    expect(
      peppolNotServiced({
        ...header(),
        collaboration: { service: 'urn:qerds-ap:service:erds', action: 'Dispatch', conversationId: 'c' },
      }),
    ).toBeUndefined();
  });

  it('JP PINT at submission: the first fatal rule names the refusal (RA02); a valid invoice passes', async () => {
    const part = (body: Buffer): PayloadPart => ({
      partId: 'p',
      contentType: 'application/xml',
      sha256: 'x',
      size: body.length,
    });
    const check = (body: Buffer) => jpPintRefusal([part(body)], async () => body);
    expect(await check(fixture('jp-pint/invoice-mixed-rates.xml'))).toBeUndefined();
    expect(await check(fixture('jp-pint/broken/qerds-jp-tax-per-rate.xml'))).toMatchObject({
      code: 'RA02',
      details: expect.stringMatching(/^JP PINT rule /),
    });
    expect(await check(Buffer.from('<not-xml'))).toMatchObject({ code: 'RA02' });
    const two = await jpPintRefusal([part(Buffer.from('a')), part(Buffer.from('b'))], async () =>
      Buffer.from(''),
    );
    expect(two).toMatchObject({ code: 'RA02', details: expect.stringMatching(/one UBL document/) });
  });
});
