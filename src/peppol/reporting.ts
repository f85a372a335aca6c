import { QerdsError } from '../core/errors.js';
import { parseXmlStrict, serializeXml } from '../xml/index.js';
import type { PeppolIdentifier } from './identifiers.js';

/**
 * Peppol reporting: the Transaction Statistics Report (TSR 1.0) and the End User Statistics Report (EUSR 1.1) an AP
 * sends OpenPeppol each month, as pure functions over exchange records. The specifications are not among the stored
 * sources; element names, namespaces and the counting rules follow phax/peppol-reporting (`TSRReportingItemAccumulator`,
 * `EUSRReportingItemAccumulator`, the Schematrons `peppol-transaction-statistics-reporting-1.0.5.sch` and
 * `peppol-end-user-statistics-reporting-1.1.5.sch`) and its sample reports (`transaction-statistics-4.xml`,
 * `end-user-statistics-reporting-1.xml`). Key rules: the TSR counts exchanges, with per-country subtotals only for
 * incoming ones (a sender never learns C4's country); the EUSR counts distinct end users, the end user being C1 of a
 * message we send and C4 of a message we receive.
 */
export interface PeppolExchangeRecord {
  /** From this AP's view: `sending` as C2, `receiving` as C3. */
  readonly direction: 'sending' | 'receiving';
  readonly exchangeTime: Date;
  /** Seat id (AP certificate CN) of the other AP: C3 when sending, C2 when receiving. */
  readonly otherServiceProvider: string;
  readonly documentType: PeppolIdentifier;
  readonly process: PeppolIdentifier;
  /** Transport profile, e.g. `peppol-transport-as4-v2_0`. */
  readonly transportProtocol: string;
  /** COUNTRY_C1 of the SBDH. */
  readonly c1CountryCode: string;
  /** C4's country, known to the receiving AP only. */
  readonly c4CountryCode?: string;
  /** Our end user: C1's participant id when sending, C4's when receiving. */
  readonly endUserId: string;
}

export interface ReportPeriod {
  /** First and last day, `YYYY-MM-DD`, both included, UTC. */
  readonly start: string;
  readonly end: string;
}

export interface ReportOptions {
  readonly period: ReportPeriod;
  /** Our seat id, `POP000000`. */
  readonly reporterSeatId: string;
}

export interface ReportKey {
  readonly metaSchemeID: string;
  readonly schemeID: string;
  readonly value: string;
}

export interface TsrSubtotal {
  readonly type: 'PerTP' | 'PerSP-DT-PR' | 'PerSP-DT-PR-CC';
  readonly keys: readonly ReportKey[];
  readonly incoming: number;
  readonly outgoing: number;
}

export interface TransactionStatisticsReport {
  readonly period: ReportPeriod;
  readonly reporterSeatId: string;
  readonly total: { readonly incoming: number; readonly outgoing: number };
  readonly subtotals: readonly TsrSubtotal[];
}

export interface EndUserCounts {
  readonly sendingEndUsers: number;
  readonly receivingEndUsers: number;
  readonly sendingOrReceivingEndUsers: number;
}

export interface EusrSubset extends EndUserCounts {
  readonly type: 'PerDT-PR' | 'PerDT-PR-EUC' | 'PerDT-EUC' | 'PerEUC';
  readonly keys: readonly ReportKey[];
}

export interface EndUserStatisticsReport {
  readonly period: ReportPeriod;
  readonly reporterSeatId: string;
  readonly fullSet: EndUserCounts;
  readonly subsets: readonly EusrSubset[];
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function inPeriod(records: readonly PeppolExchangeRecord[], period: ReportPeriod): PeppolExchangeRecord[] {
  if (!DAY.test(period.start) || !DAY.test(period.end) || period.end < period.start) {
    throw new QerdsError(
      'BAD_REQUEST',
      `report period ${period.start}…${period.end} is not two ordered YYYY-MM-DD days`,
    );
  }
  return records.filter((r) => {
    const day = r.exchangeTime.toISOString().slice(0, 10);
    return day >= period.start && day <= period.end;
  });
}

const dt = (r: PeppolExchangeRecord): ReportKey => ({
  metaSchemeID: 'DT',
  schemeID: r.documentType.scheme,
  value: r.documentType.value,
});
const pr = (r: PeppolExchangeRecord): ReportKey => ({
  metaSchemeID: 'PR',
  schemeID: r.process.scheme,
  value: r.process.value,
});
const sp = (r: PeppolExchangeRecord): ReportKey => ({
  metaSchemeID: 'SP',
  schemeID: 'CertSubjectCN',
  value: r.otherServiceProvider,
});
const cc = (schemeID: string, value: string): ReportKey => ({ metaSchemeID: 'CC', schemeID, value });

/** Group by key list (in a stable order: type, then keys), accumulating with `add`. */
function groupBy<T, A>(
  items: readonly T[],
  keysOf: (item: T) => readonly ReportKey[] | undefined,
  init: () => A,
  add: (acc: A, item: T) => void,
): { keys: readonly ReportKey[]; acc: A }[] {
  const groups = new Map<string, { keys: readonly ReportKey[]; acc: A }>();
  for (const item of items) {
    const keys = keysOf(item);
    if (!keys) continue;
    const id = JSON.stringify(keys);
    const g = groups.get(id) ?? groups.set(id, { keys, acc: init() }).get(id)!;
    add(g.acc, item);
  }
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, g]) => g);
}

/** The Transaction Statistics Report of the records in the period. */
export function buildTransactionStatisticsReport(
  records: readonly PeppolExchangeRecord[],
  options: ReportOptions,
): TransactionStatisticsReport {
  const items = inPeriod(records, options.period);
  const count = (
    type: TsrSubtotal['type'],
    keysOf: (r: PeppolExchangeRecord) => readonly ReportKey[] | undefined,
  ): TsrSubtotal[] =>
    groupBy(
      items,
      keysOf,
      () => ({ incoming: 0, outgoing: 0 }),
      (acc, r) => (r.direction === 'receiving' ? acc.incoming++ : acc.outgoing++),
    ).map((g) => ({ type, keys: g.keys, ...g.acc }));
  return {
    period: options.period,
    reporterSeatId: options.reporterSeatId,
    total: {
      incoming: items.filter((r) => r.direction === 'receiving').length,
      outgoing: items.filter((r) => r.direction === 'sending').length,
    },
    subtotals: [
      ...count('PerTP', (r) => [{ metaSchemeID: 'TP', schemeID: 'Peppol', value: r.transportProtocol }]),
      ...count('PerSP-DT-PR', (r) => [sp(r), dt(r), pr(r)]),
      // Only incoming (the sending AP never has C4's country), but every incoming one: their sum must be the
      // incoming total (SCH-TSR-12), so an unknown country is written ZZ, which the TSR code list allows.
      ...count('PerSP-DT-PR-CC', (r) =>
        r.direction === 'receiving'
          ? [
              sp(r),
              dt(r),
              pr(r),
              cc('SenderCountry', r.c1CountryCode),
              cc('ReceiverCountry', r.c4CountryCode ?? 'ZZ'),
            ]
          : undefined,
      ),
    ],
  };
}

/**
 * The country of our end user: C1's when we send, C4's when we receive. The EUSR code list has no `ZZ` (SCH-EUSR-30
 * of peppol-reporting's Schematron 1.1.5), so a received exchange without C4's country cannot be counted: refused.
 */
function endUserCountry(r: PeppolExchangeRecord): string {
  if (r.direction === 'sending') return r.c1CountryCode;
  if (!r.c4CountryCode)
    throw new QerdsError(
      'PEPPOL_REPORT_INCOMPLETE',
      `received exchange of ${r.exchangeTime.toISOString()} has no C4 country: the EUSR needs it`,
    );
  return r.c4CountryCode;
}

/** The End User Statistics Report of the records in the period: distinct end users, sending, receiving, either. */
export function buildEndUserStatisticsReport(
  records: readonly PeppolExchangeRecord[],
  options: ReportOptions,
): EndUserStatisticsReport {
  const items = inPeriod(records, options.period);
  type Sets = { sending: Set<string>; receiving: Set<string>; either: Set<string> };
  const init = (): Sets => ({ sending: new Set(), receiving: new Set(), either: new Set() });
  const add = (s: Sets, r: PeppolExchangeRecord) => {
    // End user ids are participant ids: compared ignoring case (Policy for use of Identifiers, POLICY 2).
    const id = r.endUserId.toLowerCase();
    (r.direction === 'sending' ? s.sending : s.receiving).add(id);
    s.either.add(id);
  };
  const counts = (s: Sets): EndUserCounts => ({
    sendingEndUsers: s.sending.size,
    receivingEndUsers: s.receiving.size,
    sendingOrReceivingEndUsers: s.either.size,
  });
  const subset = (
    type: EusrSubset['type'],
    keysOf: (r: PeppolExchangeRecord) => readonly ReportKey[],
  ): EusrSubset[] => groupBy(items, keysOf, init, add).map((g) => ({ type, keys: g.keys, ...counts(g.acc) }));
  const all = init();
  for (const r of items) add(all, r);
  const euc = (r: PeppolExchangeRecord) => cc('EndUserCountry', endUserCountry(r));
  return {
    period: options.period,
    reporterSeatId: options.reporterSeatId,
    fullSet: counts(all),
    subsets: [
      ...subset('PerDT-PR', (r) => [dt(r), pr(r)]),
      ...subset('PerDT-PR-EUC', (r) => [dt(r), pr(r), euc(r)]),
      ...subset('PerDT-EUC', (r) => [dt(r), euc(r)]),
      ...subset('PerEUC', (r) => [euc(r)]),
    ],
  };
}

export const TSR_NS = 'urn:fdc:peppol:transaction-statistics-report:1.0';
export const EUSR_NS = 'urn:fdc:peppol:end-user-statistics-report:1.1';
const REPORTING_PROFILE = 'urn:fdc:peppol.eu:edec:bis:reporting:1.0';

function document(
  ns: string,
  root: string,
  customization: string,
  report: { period: ReportPeriod; reporterSeatId: string },
) {
  const doc = parseXmlStrict(`<${root} xmlns="${ns}"/>`, 'INTERNAL');
  const el = (
    parent: Element,
    name: string,
    text?: string | number,
    attrs: Record<string, string> = {},
  ): Element => {
    const e = doc.createElementNS(ns, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.appendChild(doc.createTextNode(String(text)));
    parent.appendChild(e);
    return e;
  };
  const top = doc.documentElement;
  el(top, 'CustomizationID', customization);
  el(top, 'ProfileID', REPORTING_PROFILE);
  const header = el(top, 'Header');
  const period = el(header, 'ReportPeriod');
  el(period, 'StartDate', report.period.start);
  el(period, 'EndDate', report.period.end);
  el(header, 'ReporterID', report.reporterSeatId, { schemeID: 'CertSubjectCN' });
  const keys = (parent: Element, list: readonly ReportKey[]) => {
    for (const k of list) el(parent, 'Key', k.value, { metaSchemeID: k.metaSchemeID, schemeID: k.schemeID });
  };
  return { doc, top, el, keys };
}

export function serializeTransactionStatisticsReport(report: TransactionStatisticsReport): string {
  const { doc, top, el, keys } = document(
    TSR_NS,
    'TransactionStatisticsReport',
    'urn:fdc:peppol.eu:edec:trns:transaction-statistics-reporting:1.0',
    report,
  );
  const total = el(top, 'Total');
  el(total, 'Incoming', report.total.incoming);
  el(total, 'Outgoing', report.total.outgoing);
  for (const s of report.subtotals) {
    const e = el(top, 'Subtotal', undefined, { type: s.type });
    keys(e, s.keys);
    el(e, 'Incoming', s.incoming);
    el(e, 'Outgoing', s.outgoing);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serializeXml(doc)}`;
}

export function serializeEndUserStatisticsReport(report: EndUserStatisticsReport): string {
  const { doc, top, el, keys } = document(
    EUSR_NS,
    'EndUserStatisticsReport',
    'urn:fdc:peppol.eu:edec:trns:end-user-statistics-report:1.1',
    report,
  );
  const counts = (parent: Element, c: EndUserCounts) => {
    el(parent, 'SendingEndUsers', c.sendingEndUsers);
    el(parent, 'ReceivingEndUsers', c.receivingEndUsers);
    el(parent, 'SendingOrReceivingEndUsers', c.sendingOrReceivingEndUsers);
  };
  counts(el(top, 'FullSet'), report.fullSet);
  for (const s of report.subsets) {
    const e = el(top, 'Subset', undefined, { type: s.type });
    keys(e, s.keys);
    counts(e, s);
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serializeXml(doc)}`;
}
