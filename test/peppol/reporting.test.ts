import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildEndUserStatisticsReport,
  buildTransactionStatisticsReport,
  jpPintDocumentType,
  parseProcessId,
  serializeEndUserStatisticsReport,
  serializeTransactionStatisticsReport,
  type PeppolExchangeRecord,
} from '../../src/peppol/index.js';
import { descendants, parseXmlStrict } from '../../src/xml/index.js';

const dir = new URL('../fixtures/peppol/reporting/', import.meta.url).pathname;
const invoice = jpPintDocumentType('Invoice');
const creditNote = jpPintDocumentType('CreditNote');
const billing = parseProcessId('urn:peppol:bis:billing');
const at = (day: string) => new Date(`${day}T10:00:00Z`);
const rec = (over: Partial<PeppolExchangeRecord>): PeppolExchangeRecord => ({
  direction: 'sending',
  exchangeTime: at('2024-04-10'),
  otherServiceProvider: 'POP000001',
  documentType: invoice,
  process: billing,
  transportProtocol: 'peppol-transport-as4-v2_0',
  c1CountryCode: 'JP',
  endUserId: 'iso6523-actorid-upis::0188:9010401012345',
  ...over,
});

const records: PeppolExchangeRecord[] = [
  // Seller A sends two invoices to POP000001 and a credit note to POP000002.
  rec({}),
  rec({ exchangeTime: at('2024-04-30') }),
  rec({ otherServiceProvider: 'POP000002', documentType: creditNote }),
  // Seller B sends one invoice.
  rec({ endUserId: 'iso6523-actorid-upis::0188:8012301000001' }),
  // A receives an invoice from Germany (the id written in upper case: the same end user).
  rec({
    direction: 'receiving',
    c1CountryCode: 'DE',
    c4CountryCode: 'JP',
    endUserId: 'ISO6523-ACTORID-UPIS::0188:9010401012345',
  }),
  // C receives two invoices from Japan, one without a known C4 country.
  rec({ direction: 'receiving', c4CountryCode: 'JP', endUserId: 'iso6523-actorid-upis::0188:5011001099999' }),
  rec({
    direction: 'receiving',
    endUserId: 'iso6523-actorid-upis::0188:5011001099999',
    otherServiceProvider: 'POP000002',
  }),
  // Outside the period on both sides.
  rec({ exchangeTime: at('2024-03-31') }),
  rec({ exchangeTime: new Date('2024-05-01T00:00:00Z'), direction: 'receiving', c4CountryCode: 'JP' }),
];
const options = { period: { start: '2024-04-01', end: '2024-04-30' }, reporterSeatId: 'PJP000123' };

const xsdValid = (xml: string, xsd: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'qerds-peppol-report-')), 'report.xml');
  writeFileSync(file, xml);
  const r = spawnSync('xmllint', ['--noout', '--schema', join(dir, xsd), file], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
};

describe('Transaction Statistics Report', () => {
  const tsr = buildTransactionStatisticsReport(records, options);

  it('counts the exchanges of the period, incoming and outgoing', () => {
    expect(tsr.total).toEqual({ incoming: 3, outgoing: 4 });
  });

  it('has subtotals per transport protocol and per SP/DT/PR that add up to the totals', () => {
    for (const type of ['PerTP', 'PerSP-DT-PR'] as const) {
      const subs = tsr.subtotals.filter((s) => s.type === type);
      expect(
        subs.reduce((a, s) => a + s.incoming, 0),
        type,
      ).toBe(3);
      expect(
        subs.reduce((a, s) => a + s.outgoing, 0),
        type,
      ).toBe(4);
    }
    const pop1Invoices = tsr.subtotals.find(
      (s) =>
        s.type === 'PerSP-DT-PR' && s.keys[0]!.value === 'POP000001' && s.keys[1]!.value === invoice.value,
    );
    expect(pop1Invoices).toMatchObject({ incoming: 2, outgoing: 3 });
  });

  it('has country subtotals for every incoming exchange (ZZ for an unknown C4 country), none for outgoing ones', () => {
    const cc = tsr.subtotals.filter((s) => s.type === 'PerSP-DT-PR-CC');
    expect(
      cc.map((s) => [s.keys[0]!.value, s.keys[3]!.value, s.keys[4]!.value, s.incoming, s.outgoing]),
    ).toEqual([
      ['POP000001', 'DE', 'JP', 1, 0],
      ['POP000001', 'JP', 'JP', 1, 0],
      ['POP000002', 'JP', 'ZZ', 1, 0],
    ]);
    // SCH-TSR-12: their incoming sum is the incoming total.
    expect(cc.reduce((a, s) => a + s.incoming, 0)).toBe(tsr.total.incoming);
  });

  it('serializes to XML that the TSR 1.0.1 schema accepts', () => {
    const xml = serializeTransactionStatisticsReport(tsr);
    const result = xsdValid(xml, 'peppol-transaction-statistics-reporting-1.0.1.xsd');
    expect(result.output).toContain('validates');
    expect(result.ok).toBe(true);
    const doc = parseXmlStrict(xml, 'BAD_REQUEST');
    expect(doc.documentElement.namespaceURI).toBe('urn:fdc:peppol:transaction-statistics-report:1.0');
  });

  it('the public sample report validates with the same schema (the check can fail)', () => {
    expect(
      xsdValid(
        readFileSync(join(dir, 'transaction-statistics-4.xml'), 'utf8'),
        'peppol-transaction-statistics-reporting-1.0.1.xsd',
      ).ok,
    ).toBe(true);
    const broken = serializeTransactionStatisticsReport(tsr).replace(
      '<Incoming>3</Incoming>',
      '<Incoming>three</Incoming>',
    );
    expect(xsdValid(broken, 'peppol-transaction-statistics-reporting-1.0.1.xsd').ok).toBe(false);
  });
});

describe('End User Statistics Report', () => {
  // The EUSR has no ZZ: every received exchange must name C4's country.
  const known = records.filter((r) => r.direction === 'sending' || r.c4CountryCode);
  const eusr = buildEndUserStatisticsReport(known, options);

  it('refuses a received exchange without C4 country', () => {
    let code: string | undefined;
    try {
      buildEndUserStatisticsReport(records, options);
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    expect(code).toBe('PEPPOL_REPORT_INCOMPLETE');
  });

  it('counts distinct end users: A and B send, A and C receive, three in all', () => {
    expect(eusr.fullSet).toEqual({ sendingEndUsers: 2, receivingEndUsers: 2, sendingOrReceivingEndUsers: 3 });
  });

  it('has subsets per document type and process, and per end user country', () => {
    const perDtPr = eusr.subsets.filter((s) => s.type === 'PerDT-PR');
    expect(
      perDtPr.map((s) => [
        s.keys[0]!.value,
        s.sendingEndUsers,
        s.receivingEndUsers,
        s.sendingOrReceivingEndUsers,
      ]),
    ).toEqual([
      [creditNote.value, 1, 0, 1],
      [invoice.value, 2, 2, 3],
    ]);
    const perEuc = eusr.subsets.filter((s) => s.type === 'PerEUC');
    expect(
      perEuc.map((s) => [
        s.keys[0]!.value,
        s.sendingEndUsers,
        s.receivingEndUsers,
        s.sendingOrReceivingEndUsers,
      ]),
    ).toEqual([['JP', 2, 2, 3]]);
  });

  it('serializes to XML that the EUSR 1.1 schema accepts, with the keys of each subset', () => {
    const xml = serializeEndUserStatisticsReport(eusr);
    const result = xsdValid(xml, 'peppol-end-user-statistics-reporting-1.1.xsd');
    expect(result.output).toContain('validates');
    expect(result.ok).toBe(true);
    const doc = parseXmlStrict(xml, 'BAD_REQUEST');
    const subsets = descendants(doc, 'urn:fdc:peppol:end-user-statistics-report:1.1', 'Subset');
    expect(subsets.map((s) => s.getAttribute('type'))).toEqual(eusr.subsets.map((s) => s.type));
    expect(
      xsdValid(
        readFileSync(join(dir, 'end-user-statistics-reporting-1.xml'), 'utf8'),
        'peppol-end-user-statistics-reporting-1.1.xsd',
      ).ok,
    ).toBe(true);
  });

  it('refuses a period that is not two ordered days', () => {
    expect(() =>
      buildEndUserStatisticsReport(known, { ...options, period: { start: '2024-04-30', end: '2024-04-01' } }),
    ).toThrow(/period/);
  });
});
