import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isQerdsError } from '../../src/core/errors.js';
import {
  assertSbdhConsistent,
  buildSbd,
  formatIdentifier,
  jpPintDocumentType,
  parseDocumentTypeId,
  parseParticipantId,
  parseProcessId,
  parseSbd,
  sbdhMismatches,
  type As4PeppolHeader,
  type SbdhSubmission,
} from '../../src/peppol/index.js';

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/peppol/${name}`, import.meta.url), 'utf8');
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return isQerdsError(e) ? e.code : `not a QerdsError: ${String(e)}`;
  }
};

const submission: SbdhSubmission = {
  sender: parseParticipantId('0188:9010401012345'),
  receiver: parseParticipantId('0188:5011001099999'),
  documentType: jpPintDocumentType('Invoice'),
  process: parseProcessId('urn:peppol:bis:billing'),
  countryC1: 'JP',
  instanceIdentifier: '0d3c8f0e-8a52-4d7b-9a53-6f2a4c1e7b01',
  creationTime: new Date('2024-04-30T09:15:00Z'),
};
const invoice = fixture('jp-pint/invoice-standard-rate.xml');
const as4Of = (over: Partial<As4PeppolHeader> = {}): As4PeppolHeader => ({
  originalSender: '0188:9010401012345',
  finalRecipient: '0188:5011001099999',
  service: 'urn:peppol:bis:billing',
  serviceType: 'cenbii-procid-ubl',
  action: formatIdentifier(jpPintDocumentType('Invoice')),
  ...over,
});

describe('SBDH from public test material (phax/peppol-commons peppol-testfiles)', () => {
  it('reads good-bis3.xml (scopes without Identifier: default schemes) and good-bis3-full.xml', () => {
    const { header, businessMessage } = parseSbd(fixture('sbdh/good-bis3.xml'));
    expect(formatIdentifier(header.sender)).toBe('iso6523-actorid-upis::0088:7315458756324');
    expect(formatIdentifier(header.receiver)).toBe('iso6523-actorid-upis::0088:4562458856624');
    expect(header.documentType.scheme).toBe('busdox-docid-qns');
    expect(header.documentType.customization).toBe(
      'urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0',
    );
    expect(formatIdentifier(header.process)).toBe(
      'cenbii-procid-ubl::urn:fdc:peppol.eu:2017:poacc:billing:01:1.0',
    );
    expect(header.countryC1).toBe('AT');
    expect(header.instanceIdentifier).toBe('3739db04-7e4e-4c89-b170-c543dd252249');
    expect(header.creationTime.toISOString()).toBe('2019-04-25T15:46:10.000Z');
    expect(businessMessage.localName).toBe('Invoice');

    const full = parseSbd(fixture('sbdh/good-bis3-full.xml')).header;
    expect(full.scopes.map((s) => s.type)).toEqual([
      'DOCUMENTID',
      'PROCESSID',
      'COUNTRY_C1',
      'MLS_TO',
      'MLS_TYPE',
    ]);
  });

  it.each(['good-with-timezone.xml', 'good-type-version-20.xml', 'good-additional-scopes.xml'])(
    'reads %s',
    (file) => {
      const { header } = parseSbd(fixture(`sbdh/${file}`));
      expect(header.typeVersion).toBe('2.1');
      expect(header.documentType.version).toBe('2.1');
    },
  );

  it('keeps the zone of good-with-timezone.xml: 05:10:10+01:00 is 04:10:10Z', () => {
    expect(parseSbd(fixture('sbdh/good-with-timezone.xml')).header.creationTime.toISOString()).toBe(
      '2013-02-19T04:10:10.000Z',
    );
  });

  it('the sample GLNs have wrong check digits: accepted on receipt (syntax only), refused when asked to check values', () => {
    expect(
      codeOf(() => parseSbd(fixture('sbdh/good-bis3.xml'), { participantIds: { checkValues: true } })),
    ).toBe('PEPPOL_SBDH_SENDER_INVALID');
  });

  it.each([
    ['bad-no-country-c1.xml', 'PEPPOL_SBDH_COUNTRY_C1_INVALID'],
    ['bad-too-many-receivers.xml', 'PEPPOL_SBDH_RECEIVER_INVALID'],
    ['bad-too-few-senders.xml', 'PEPPOL_SBDH_SENDER_INVALID'],
    ['bad-invalid-receiver-authority.xml', 'PEPPOL_SBDH_RECEIVER_INVALID'],
    ['bad-invalid-creation-date-and-time.xml', 'PEPPOL_SBDH_CREATION_TIME_INVALID'],
    ['bad-invalid-header-version.xml', 'PEPPOL_SBDH_HEADER_VERSION'],
    ['bad-no-business-scope.xml', 'PEPPOL_SBDH_DOCTYPE_INVALID'],
    ['bad-invalid-standard.xml', 'PEPPOL_SBDH_STANDARD_MISMATCH'],
    ['bad-invalid-type-version.xml', 'PEPPOL_SBDH_STANDARD_MISMATCH'],
    ['bad-invalid-type.xml', 'PEPPOL_SBDH_STANDARD_MISMATCH'],
    ['bad-invalid-instance-identifier.xml', 'PEPPOL_SBDH_INSTANCE_ID_INVALID'],
    ['bad-no-process-identifier.xml', 'PEPPOL_SBDH_PROCESS_INVALID'],
    ['bad-no-document-type-identifier.xml', 'PEPPOL_SBDH_DOCTYPE_INVALID'],
    ['bad-invalid-business-message.xml', 'PEPPOL_SBDH_MALFORMED'],
    ['bad-no-business-message.xml', 'PEPPOL_SBDH_MALFORMED'],
  ])('refuses %s with %s', (file, code) => {
    expect(codeOf(() => parseSbd(fixture(`sbdh/${file}`)))).toBe(code);
  });
});

describe('SBDH built for a JP PINT invoice', () => {
  const sbd = buildSbd(submission, invoice);

  it('round-trips: what was built reads back to the submission', () => {
    const { header, businessMessage } = parseSbd(sbd, { participantIds: { checkValues: true } });
    expect(formatIdentifier(header.sender)).toBe('iso6523-actorid-upis::0188:9010401012345');
    expect(formatIdentifier(header.receiver)).toBe('iso6523-actorid-upis::0188:5011001099999');
    expect(formatIdentifier(header.documentType)).toBe(
      'peppol-doctype-wildcard::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:peppol:pint:billing-1@jp-1::2.1',
    );
    expect(header).toMatchObject({
      standard: 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2',
      type: 'Invoice',
      typeVersion: '2.1',
      countryC1: 'JP',
    });
    expect(header.creationDateAndTime).toBe('2024-04-30T09:15:00.000Z');
    expect(header.instanceIdentifier).toBe(submission.instanceIdentifier);
    expect(
      businessMessage.getElementsByTagNameNS(
        'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2',
        'ID',
      )[0]?.textContent,
    ).toBe('JP-INV-0001');
  });

  it('matches a fixture written out once (the layout of the header does not drift)', () => {
    expect(sbd).toBe(fixture('sbdh/jp-pint-invoice-sbd.xml'));
  });

  it('refuses to wrap a document the document type does not name, and a COUNTRY_C1 outside ISO 3166-1', () => {
    expect(
      codeOf(() => buildSbd({ ...submission, documentType: jpPintDocumentType('CreditNote') }, invoice)),
    ).toBe('PEPPOL_SBDH_STANDARD_MISMATCH');
    expect(codeOf(() => buildSbd({ ...submission, countryC1: 'XX' }, invoice))).toBe(
      'PEPPOL_SBDH_COUNTRY_C1_INVALID',
    );
    expect(codeOf(() => parseSbd(sbd.replace('>JP<', '>jp<')))).toBe('PEPPOL_SBDH_COUNTRY_C1_INVALID');
    expect(
      codeOf(() => parseSbd(sbd.replace('>JP<', '>XI<'), { extraCountryCodes: ['XI'] })),
    ).toBeUndefined();
  });

  it('refuses a DOCTYPE, a creation time without zone, text beside the payload and a second payload', () => {
    expect(
      codeOf(() =>
        parseSbd(sbd.replace('<StandardBusinessDocument', '<!DOCTYPE x><StandardBusinessDocument')),
      ),
    ).toBe('PEPPOL_SBDH_MALFORMED');
    expect(codeOf(() => parseSbd(sbd.replace('2024-04-30T09:15:00.000Z', '2024-04-30T09:15:00')))).toBe(
      'PEPPOL_SBDH_CREATION_TIME_INVALID',
    );
    expect(
      codeOf(() => parseSbd(sbd.replace('</StandardBusinessDocument>', 'extra</StandardBusinessDocument>'))),
    ).toBe('PEPPOL_SBDH_MALFORMED');
    expect(
      codeOf(() => parseSbd(sbd.replace('</StandardBusinessDocument>', '<x/></StandardBusinessDocument>'))),
    ).toBe('PEPPOL_SBDH_MALFORMED');
  });

  describe('consistency with the AS4 header and the SMP', () => {
    const { header } = parseSbd(sbd);
    const smp = {
      participant: parseParticipantId('0188:5011001099999'),
      documentTypes: [
        parseDocumentTypeId(
          'peppol-doctype-wildcard::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:peppol:pint:billing-1*::2.1',
        ),
      ],
      processes: [parseProcessId('urn:peppol:bis:billing')],
    };

    it('agrees with matching values (participant case and the AS4 type prefix aside)', () => {
      expect(
        sbdhMismatches(header, as4Of({ originalSender: 'iso6523-actorid-upis::0188:9010401012345' }), smp),
      ).toEqual([]);
      expect(() => assertSbdhConsistent(header, as4Of(), smp)).not.toThrow();
    });

    it.each([
      [{ originalSender: '0188:8012301000001' }, 'PEPPOL_SBDH_SENDER_MISMATCH'],
      [{ finalRecipient: '0188:8012301000001' }, 'PEPPOL_SBDH_RECEIVER_MISMATCH'],
      [{ finalRecipientType: 'other-scheme-x' }, 'PEPPOL_SBDH_RECEIVER_MISMATCH'],
      [{ service: 'urn:peppol:bis:selfbilling' }, 'PEPPOL_SBDH_PROCESS_MISMATCH'],
      [{ serviceType: 'other-procid-x' }, 'PEPPOL_SBDH_PROCESS_MISMATCH'],
      [{ action: formatIdentifier(jpPintDocumentType('CreditNote')) }, 'PEPPOL_SBDH_DOCTYPE_MISMATCH'],
      [
        { action: `busdox-docid-qns::${jpPintDocumentType('Invoice').value}` },
        'PEPPOL_SBDH_DOCTYPE_MISMATCH',
      ],
    ] as const)('AS4 %o → %s', (over, code) => {
      expect(sbdhMismatches(header, as4Of(over)).map((m) => m.code)).toEqual([code]);
      expect(codeOf(() => assertSbdhConsistent(header, as4Of(over)))).toBe(code);
    });

    it('names each SMP contradiction: other participant, no accepting registration, unregistered process', () => {
      const found = sbdhMismatches(header, undefined, {
        participant: parseParticipantId('0188:8012301000001'),
        documentTypes: [
          parseDocumentTypeId(
            'peppol-doctype-wildcard::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:peppol:pint:billing-1@aunz-1*::2.1',
          ),
        ],
        processes: [parseProcessId('urn:peppol:bis:selfbilling')],
      });
      expect(found.map((m) => m.code)).toEqual([
        'PEPPOL_SBDH_RECEIVER_MISMATCH',
        'PEPPOL_SBDH_DOCTYPE_MISMATCH',
        'PEPPOL_SBDH_PROCESS_MISMATCH',
      ]);
    });
  });
});

describe('SBDH document type', () => {
  it('refuses a wildcard registration where a document type belongs', () => {
    const star = buildSbd(submission, invoice).replace(
      'billing-1@jp-1::2.1</InstanceIdentifier>',
      'billing-1@jp-1*::2.1</InstanceIdentifier>',
    );
    expect(codeOf(() => parseSbd(star))).toBe('PEPPOL_SBDH_DOCTYPE_INVALID');
    const wildcard = {
      ...submission,
      documentType: parseDocumentTypeId(
        formatIdentifier(jpPintDocumentType('Invoice')).replace('@jp-1::', '@jp-1*::'),
      ),
    };
    expect(codeOf(() => buildSbd(wildcard, invoice))).toBe('PEPPOL_SBDH_DOCTYPE_INVALID');
  });
});

describe('SBDH Message Level Status scopes (MLS_TO, MLS_TYPE)', () => {
  it('reads MLS_TYPE, FAILURE_ONLY when absent', () => {
    expect(parseSbd(fixture('sbdh/good-bis3-with-mls-type.xml')).header.mlsType).toBe('ALWAYS_SEND');
    expect(parseSbd(fixture('sbdh/good-bis3.xml')).header.mlsType).toBe('FAILURE_ONLY');
  });

  it('refuses an MLS_TYPE outside the two values (bad-mls-type-invalid-value.xml: wrong case)', () => {
    expect(codeOf(() => parseSbd(fixture('sbdh/bad-mls-type-invalid-value.xml')))).toBe(
      'PEPPOL_SBDH_MLS_TYPE_INVALID',
    );
  });

  it('keeps an MLS_TO only when it is an SPIS id under iso6523-actorid-upis; otherwise the MLS goes to C2', () => {
    for (const f of [
      'good-bis3-with-mls-to.xml',
      'bad-mls-to-invalid-value.xml',
      'bad-mls-to-no-scheme.xml',
    ]) {
      expect(parseSbd(fixture(`sbdh/${f}`)).header.mlsTo, f).toBeUndefined();
    }
    const withSpis = buildSbd(
      {
        ...submission,
        extraScopes: [
          { type: 'MLS_TO', instanceIdentifier: '0242:000123-JP_AP', identifier: 'iso6523-actorid-upis' },
        ],
      },
      invoice,
    );
    expect(formatIdentifier(parseSbd(withSpis).header.mlsTo!)).toBe(
      'iso6523-actorid-upis::0242:000123-JP_AP',
    );
  });
});

describe('SBDH against the UN/CEFACT SBDH 1.3 schema (xmllint)', () => {
  const xsd = new URL('../fixtures/peppol/sbdh/xsd/StandardBusinessDocumentHeader.xsd', import.meta.url)
    .pathname;
  const validate = (xml: string) => {
    const file = join(mkdtempSync(join(tmpdir(), 'qerds-sbdh-')), 'sbd.xml');
    writeFileSync(file, xml);
    const r = spawnSync('xmllint', ['--noout', '--schema', xsd, file], { encoding: 'utf8' });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  };

  it('accepts what buildSbd writes, MLS scopes included, and the public samples', () => {
    const withMls = buildSbd(
      {
        ...submission,
        extraScopes: [
          { type: 'MLS_TO', instanceIdentifier: '0242:000123', identifier: 'iso6523-actorid-upis' },
          { type: 'MLS_TYPE', instanceIdentifier: 'ALWAYS_SEND' },
        ],
      },
      invoice,
    );
    for (const xml of [buildSbd(submission, invoice), withMls, fixture('sbdh/good-bis3-full.xml')]) {
      const r = validate(xml);
      expect(r.output).toContain('validates');
      expect(r.ok).toBe(true);
    }
  });

  it('would notice a header out of schema order (the check can fail)', () => {
    const swapped = buildSbd(submission, invoice).replace(
      /(<Sender>.*?<\/Sender>)(<Receiver>.*?<\/Receiver>)/,
      '$2$1',
    );
    expect(validate(swapped).ok).toBe(false);
  });
});
