import { QerdsError } from '../core/errors.js';
import { parseXmlStrict } from '../xml/index.js';
import { formatDecimal, hasFraction, percentOf, sum, type Micros } from './decimal.js';
import type { PeppolFinding } from './errors.js';
import { isCorporateNumber } from './icd-schemes.js';
import { JP_PINT_CUSTOMIZATION, JP_PINT_SELF_BILLING_CUSTOMIZATION } from './identifiers.js';
import { readUblInvoice, type Amount, type TaxCategory, type UblInvoice } from './ubl-invoice.js';

/**
 * JP PINT (Peppol International invoice, Japan; `urn:peppol:pint:billing-1@jp-1`) business rules as code. Each rule
 * carries the id and text of the rule it implements:
 * - `ibr-…`: the PINT shared rules (PINT-UBL-validation schematron; three-digit numbers, `ibr-001` … `ibr-127`);
 * - `aligned-ib…-jp…`: the JP aligned rules of JP PINT 1.1.2 (`PINT-jurisdiction-aligned-rules`, read from
 *   phax/phive-rules `phive-rules-peppol/src/main/resources/external/schematron/pint-jp/1.1.2/`);
 * - `qerds-…`: checks qerds-ap adds, each saying where it comes from (not in JP PINT 1.1.2).
 * Ids and texts were compared with the official rules compiled to XSLT (test/fixtures/peppol/jp-pint-schematron/):
 * a rule with an official id finds nothing the official rule of that id would not find (it may find less: it reads
 * fewer places, e.g. document-level tax totals only). One exception: aligned-ibr-jp-06, whose official assert is
 * shadowed by an earlier rule of its pattern for document-currency subtotals (test/fixtures/peppol/README.md).
 * This is a subset chosen for what a qualified invoice (適格請求書) needs: identification, the seller's registration
 * number, one tax breakdown per rate rounded once, and totals that add up. It does not replace the schematron (no
 * code lists beyond tax categories, no payment rules) and the UBL XSD is not checked here.
 * The self-billing specification (`urn:peppol:pint:selfbilling-1@jp-1`) is accepted; its own aligned rules were not
 * in the stored sources, so it gets the billing rules except the ProfileID and type code ones.
 */
export interface JpPintRule {
  readonly id: string;
  readonly text: string;
  readonly severity?: 'fatal' | 'warning';
  /** Locations where the rule is broken (empty: it holds). */
  readonly check: (doc: UblInvoice) => readonly string[];
}

const JP_CUSTOMIZATIONS = [JP_PINT_CUSTOMIZATION, JP_PINT_SELF_BILLING_CUSTOMIZATION];
const JP_TAX_CATEGORIES = ['AA', 'E', 'S', 'G', 'O'];
/** The amount elements ibr-126 reads wherever they are (its other elements are those of a tax total). */
const IBR_126_NAMES =
  /\/(Amount|BaseAmount|PriceAmount|LineExtensionAmount|TaxExclusiveAmount|TaxInclusiveAmount|AllowanceTotalAmount|ChargeTotalAmount|PrepaidAmount|PayableRoundingAmount|PayableAmount)$/;
const LMT = 'LegalMonetaryTotal';

const isSelfBilling = (d: UblInvoice) => d.customizationId.startsWith(JP_PINT_SELF_BILLING_CUSTOMIZATION);
const when = (broken: boolean, location: string): string[] => (broken ? [location] : []);
const v = (a: Amount | undefined): Micros | undefined => a?.value;
const inDocCurrency = (d: UblInvoice, a: Amount | undefined) => !!a && a.currency === d.documentCurrency;
const taxTotal = (d: UblInvoice) => d.taxTotals.find((t) => inDocCurrency(d, t.tax));
/** YYYY-MM-DD naming a day of the proleptic Gregorian calendar (what a 10-character xs:date is). */
function isCalendarDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, da] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, da);
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === da;
}
const key = (c: TaxCategory | undefined) =>
  `${c?.id ?? ''}|${c?.percent === undefined ? '-' : formatDecimal(c.percent)}`;

/** Every tax category of lines, allowances and charges: what the breakdown must cover. */
const usedCategories = (d: UblInvoice): TaxCategory[] => [
  ...d.lines.flatMap((l) => (l.taxCategory ? [l.taxCategory] : [])),
  ...d.allowanceCharges.flatMap((a) => (a.taxCategory ? [a.taxCategory] : [])),
];
const allCategories = (d: UblInvoice): TaxCategory[] => [
  ...usedCategories(d),
  ...d.taxTotals.flatMap((t) => t.subtotals.flatMap((s) => (s.category ? [s.category] : []))),
];

/** Taxable base of one (category, rate): lines + charges − allowances (qerds-jp-taxable-per-rate). */
function taxableOf(d: UblInvoice, c: TaxCategory): Micros {
  const same = (x: TaxCategory | undefined) => key(x) === key(c);
  const lines = sum(d.lines.filter((l) => same(l.taxCategory)).map((l) => v(l.lineExtension) ?? 0n));
  const charges = sum(
    d.allowanceCharges.filter((a) => a.charge && same(a.taxCategory)).map((a) => v(a.amount) ?? 0n),
  );
  const allowances = sum(
    d.allowanceCharges.filter((a) => !a.charge && same(a.taxCategory)).map((a) => v(a.amount) ?? 0n),
  );
  return lines + charges - allowances;
}

export const JP_PINT_RULES: readonly JpPintRule[] = Object.freeze([
  {
    id: 'ibr-001',
    text: 'An Invoice MUST have a Specification identifier (ibt-024).',
    check: (d) => when(!d.customizationId, 'cbc:CustomizationID'),
  },
  {
    id: 'aligned-ibrp-001-jp',
    text: "Specification identifier MUST start with the value 'urn:peppol:pint:billing-1@jp-1' (or the self-billing 'urn:peppol:pint:selfbilling-1@jp-1'). JP PINT 1.1.2 also admits the retired JP BIS 'urn:fdc:peppol:jp:billing:3.0', whose rules are not these, so qerds-ap does not.",
    check: (d) =>
      when(!JP_CUSTOMIZATIONS.some((c) => d.customizationId.startsWith(c)), 'cbc:CustomizationID'),
  },
  {
    id: 'aligned-ibrp-002-jp',
    text: "Business process MUST be in the format 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0' or 'urn:peppol:bis:billing'.",
    check: (d) =>
      when(
        !isSelfBilling(d) &&
          !['urn:fdc:peppol.eu:2017:poacc:billing:01:1.0', 'urn:peppol:bis:billing'].includes(d.profileId),
        'cbc:ProfileID',
      ),
  },
  {
    id: 'ibr-002',
    text: 'An Invoice MUST have an Invoice number (ibt-001).',
    check: (d) => when(!d.id, 'cbc:ID'),
  },
  {
    id: 'ibr-003',
    text: 'An Invoice MUST have an Invoice issue date (ibt-002).',
    check: (d) => when(!d.issueDate, 'cbc:IssueDate'),
  },
  {
    id: 'ibr-073',
    text: 'A date MUST be formatted YYYY-MM-DD in (ibt-002), (ibt-007), (ibt-009), (ibt-026), (ibt-072), (ibt-073), (ibt-074), (ibt-134), (ibt-135).',
    // Read here: the issue date and the invoice and line period dates (the official rule also reads the due,
    // tax point and delivery dates).
    check: (d) =>
      [
        ...(d.issueDate ? [{ at: 'cbc:IssueDate', date: d.issueDate }] : []),
        ...d.periodDates.map((date) => ({ at: 'cac:InvoicePeriod', date })),
      ]
        .filter((x) => !isCalendarDate(x.date))
        .map((x) => `${x.at} "${x.date}"`),
  },
  {
    id: 'ibr-004',
    text: 'An Invoice MUST have an Invoice type code (ibt-003).',
    check: (d) => when(!d.typeCode, 'cbc:InvoiceTypeCode'),
  },
  {
    id: 'aligned-ibrp-cl-02-jp',
    text: 'The document type code (ibt-003) MUST be 380.',
    check: (d) =>
      when(d.root === 'Invoice' && !isSelfBilling(d) && d.typeCode !== '380', 'cbc:InvoiceTypeCode'),
  },
  {
    id: 'ibr-005',
    text: 'An Invoice MUST have an Invoice currency code (ibt-005).',
    check: (d) => when(!d.documentCurrency, 'cbc:DocumentCurrencyCode'),
  },
  {
    id: 'ibr-cl-04',
    text: 'Invoice currency code (ibt-005) MUST be coded using ISO code list 4217 alpha-3',
    // Only the shape (three capital letters) is checked here: every code of the official list has it, the list
    // itself is the Schematron's.
    check: (d) =>
      when(!!d.documentCurrency && !/^[A-Z]{3}$/.test(d.documentCurrency), 'cbc:DocumentCurrencyCode'),
  },
  {
    id: 'aligned-ibr-jp-05',
    text: 'If Tax accounting currency (ibt-006) is present, it shall be coded using JPY in ISO code list of 4217 a-3.',
    check: (d) => when(d.taxCurrency !== undefined && d.taxCurrency !== 'JPY', 'cbc:TaxCurrencyCode'),
  },
  {
    id: 'ibr-006',
    text: 'An Invoice MUST contain the Seller name (ibt-027).',
    check: (d) => when(!d.sellerName, 'cac:AccountingSupplierParty'),
  },
  {
    id: 'ibr-007',
    text: 'An Invoice MUST contain the Buyer name (ibt-044).',
    check: (d) => when(!d.buyerName, 'cac:AccountingCustomerParty'),
  },
  {
    id: 'ibr-016',
    text: 'An Invoice MUST have at least one Invoice line (ibg-25)',
    check: (d) => when(d.lines.length === 0, d.root),
  },
  {
    id: 'aligned-ibrp-052',
    text: 'An Invoice MUST have an invoice period (ibg-14) or an Invoice line period (ibg-26).',
    check: (d) => when(!d.hasPeriod, 'cac:InvoicePeriod'),
  },
  {
    id: 'aligned-ibr-jp-04',
    text: 'An Invoice shall have the Seller tax identifier (ibt-031).',
    check: (d) =>
      when(
        !d.sellerTaxIds.some((t) => t.companyId),
        'cac:AccountingSupplierParty/cac:Party/cac:PartyTaxScheme',
      ),
  },
  {
    id: 'aligned-ibr-jp-01',
    text: 'If a date of an invoice period (ibg-14) or an invoice line period (ibg-26) is on and after October 1st 2023, Seller Tax Identifier shall be coded by using a Registration Number for Qualified Invoice purpose in Japan, which consists of 14 digits that start with T.',
    check: (d) =>
      d.periodDates.some((date) => date >= '2023-10-01')
        ? d.sellerTaxIds
            .filter((t) => t.scheme === 'VAT' && !/^T[0-9]{13}$/.test(t.companyId))
            .map(() => 'cac:PartyTaxScheme/cbc:CompanyID')
        : [],
  },
  {
    id: 'qerds-jp-registration-number-corporate',
    text: 'A seller with a corporate number (PartyLegalEntity/CompanyID, schemeID 0188) has the registration number "T" + that corporate number (NTA, 適格請求書発行事業者公表サイト "登録番号とは": 法人番号を有する課税事業者は「T」+法人番号).',
    check: (d) => {
      const legal = d.sellerLegalId;
      if (!legal || legal.schemeId !== '0188') return [];
      return d.sellerTaxIds
        .filter(
          (t) =>
            t.scheme === 'VAT' && /^T[0-9]{13}$/.test(t.companyId) && t.companyId !== `T${legal.companyId}`,
        )
        .map((t) => `${t.companyId} ≠ T${legal.companyId}`);
    },
  },
  {
    id: 'qerds-jp-registration-number-check-digit',
    severity: 'warning',
    text: "The 13 digits of the registration number do not carry the check digit of a corporate number (法人番号の指定等に関する省令 第2条). A corporation's number would be mistyped; the NTA assigns other businesses 13 digits without saying they carry it, so this is a warning.",
    check: (d) =>
      d.sellerTaxIds
        .filter((t) => /^T[0-9]{13}$/.test(t.companyId) && !isCorporateNumber(t.companyId.slice(1)))
        .map(() => 'cac:PartyTaxScheme/cbc:CompanyID'),
  },
  {
    id: 'aligned-ibr-jp-03',
    text: 'Tax scheme shall use VAT from UNECE 5153 code list. VAT means Consumption Tax in Japan.',
    check: (d) =>
      allCategories(d)
        .filter((c) => c.scheme !== 'VAT')
        .map((c) => `TaxScheme/cbc:ID "${c.scheme}"`),
  },
  {
    id: 'aligned-ibrp-cl-01-jp',
    text: 'Japanese invoice tax categories MUST be coded using UNCL5305 code list (AA, E, S, G, O).',
    check: (d) =>
      allCategories(d)
        .filter((c) => !JP_TAX_CATEGORIES.includes(c.id))
        .map((c) => `TaxCategory/cbc:ID "${c.id}"`),
  },
  {
    id: 'ibr-021',
    text: 'Each Invoice line (ibg-25) MUST have an Invoice line identifier (ibt-126).',
    check: (d) => d.lines.filter((l) => !l.id).map((_, i) => `line ${i + 1}`),
  },
  {
    id: 'ibr-022',
    text: 'Each Invoice line (ibg-25) MUST have an invoiced quantity (ibt-129)..',
    check: (d) => d.lines.filter((l) => !l.quantityPresent).map((l) => `line ${l.id}`),
  },
  {
    id: 'ibr-024',
    text: 'Each Invoice line (ibg-25) MUST have an Invoice line net amount (ibt-131).',
    check: (d) => d.lines.filter((l) => !l.lineExtension).map((l) => `line ${l.id}`),
  },
  {
    id: 'ibr-025',
    text: 'Each Invoice line (ibg-25) MUST contain the Item name (ibt-153).',
    check: (d) => d.lines.filter((l) => !l.itemName).map((l) => `line ${l.id}`),
  },
  {
    id: 'ibr-026',
    text: 'Each Invoice line (ibg-25) MUST contain the Item net price (ibt-146).',
    check: (d) => d.lines.filter((l) => !l.price).map((l) => `line ${l.id}`),
  },
  {
    id: 'aligned-ibrp-050-jp',
    text: 'Each Invoice line (ibg-25) MUST be categorized with an Invoiced item tax category code (ibt-151) and Invoiced item tax rate (ibt-152).',
    check: (d) =>
      d.lines
        .filter(
          (l) => !l.taxCategory?.id || (l.taxCategory.id !== 'O' && l.taxCategory.percent === undefined),
        )
        .map((l) => `line ${l.id}`),
  },
  {
    id: 'aligned-ibrp-o-05',
    text: 'An Invoice line (ibg-25) where the tax category code (ibt-151) is "Not subject to tax" MUST not contain an Invoiced item tax rate (ibt-152).',
    check: (d) =>
      d.lines
        .filter((l) => l.taxCategory?.id === 'O' && l.taxCategory.percentText !== undefined)
        .map((l) => `line ${l.id}`),
  },
  {
    id: 'ibr-053',
    text: 'If the Tax accounting currency code (ibt-006) is present, then the Invoice total Tax amount in accounting currency (ibt-111) MUST be provided.',
    // Any TaxTotal/TaxAmount counts, a line's included, as in the official `//cac:TaxTotal/cbc:TaxAmount`.
    check: (d) =>
      when(
        d.taxCurrency !== undefined &&
          !d.amounts.some((a) => /\/TaxTotal\/TaxAmount$/.test(a.path) && a.currency === d.taxCurrency),
        'cac:TaxTotal',
      ),
  },
  {
    id: 'aligned-ibrp-053-jp',
    text: 'Only one Invoice total tax amount may be present in the document currency (ibt-110).',
    check: (d) => when(d.taxTotals.filter((t) => inDocCurrency(d, t.tax)).length !== 1, 'cac:TaxTotal'),
  },
  ...(
    [
      [
        'e',
        'E',
        'An Invoice that contains an Invoice line (ibg-25), a Document level allowance (ibg-20) or a Document level charge (ibg-21) where the tax category code (ibt-151, ibt-95 or ibt-102) is "Exempt from tax" MUST contain exactly one tax breakdown (ibg-23) with the tax category code (ibt-118) equal to "Exempt from tax".',
      ],
      [
        'g',
        'G',
        'An Invoice that contains an Invoice line (ibg-25), a Document level allowance (ibg-20) or a Document level charge (ibg-21) where the tax category code (ibt-151, ibt-95 or ibt-102) is "Export" MUST contain in the tax breakdown (ibg-23) exactly one tax category code (ibt-118) equal with "Export".',
      ],
      [
        'o',
        'O',
        'An Invoice that contains an Invoice line (ibg-25), a Document level allowance (ibg-20) or a Document level charge (ibg-21) where the tax category code (ibt-151, ibt-95 or ibt-102) is "Not subject to tax" MUST contain exactly one tax breakdown group (ibg-23) with the tax category code (ibt-118) equal to "Not subject to tax".',
      ],
    ] as const
  ).map(([letter, code, text]): JpPintRule => ({
    id: `aligned-ibrp-${letter}-01`,
    text,
    // As the official test: once the code appears anywhere (a breakdown's own category included), the
    // breakdowns of all tax totals hold it exactly once. JP PINT has no such rule for S and AA:
    // qerds-jp-tax-per-rate covers every category.
    check: (d) => {
      const isIt = (c: TaxCategory) => c.scheme.toUpperCase() === 'VAT' && c.id === code;
      if (!allCategories(d).some(isIt)) return [];
      const n = d.taxTotals.flatMap((t) => t.subtotals).filter((s) => s.category && isIt(s.category)).length;
      return when(n !== 1, `category ${code}: ${n} tax breakdowns`);
    },
  })),
  {
    id: 'qerds-jp-tax-per-rate',
    text: 'A qualified invoice states the consumption tax per rate (消費税法 第57条の4 第1項: 税率ごとに区分した消費税額等): exactly one tax breakdown (ibg-23) for each combination of tax category and rate used on lines, allowances and charges, and none for a combination not used.',
    check: (d) => {
      const breakdown = (taxTotal(d)?.subtotals ?? []).map((s) => key(s.category));
      const used = new Set(usedCategories(d).map(key));
      const missingOrRepeated = [...used].filter((k) => breakdown.filter((b) => b === k).length !== 1);
      const unused = breakdown.filter((b) => !used.has(b));
      return [...missingOrRepeated, ...unused].map((k) => `rate ${k.replace('|', ' ')}`);
    },
  },
  {
    id: 'aligned-ibrp-045',
    text: 'Each tax breakdown (ibg-23) MUST have a tax category taxable amount (ibt-116).',
    check: (d) =>
      (taxTotal(d)?.subtotals ?? [])
        .filter((s) => v(s.taxable) === undefined)
        .map((s) => `rate ${key(s.category)}`),
  },
  {
    id: 'aligned-ibrp-046',
    text: 'Each tax breakdown (ibg-23) MUST have a tax category tax amount (ibt-117).',
    check: (d) =>
      (taxTotal(d)?.subtotals ?? [])
        .filter((s) => v(s.tax) === undefined)
        .map((s) => `rate ${key(s.category)}`),
  },
  {
    id: 'aligned-ibrp-048',
    text: 'Each tax breakdown (ibg-23) MUST have a tax category rate (ibt-119), except if the Invoice is not subject to tax.',
    check: (d) =>
      (taxTotal(d)?.subtotals ?? [])
        .filter((s) => s.category?.id !== 'O' && s.category?.percent === undefined)
        .map((s) => `category ${s.category?.id ?? '?'}`),
  },
  {
    id: 'qerds-jp-taxable-per-rate',
    text: 'For each combination of tax category code (ibt-118) and rate (ibt-119), the tax category taxable amount (ibt-116) equals the sum of the Invoice line net amounts (ibt-131) plus document level charges (ibt-099) minus document level allowances (ibt-092) with that combination: the amount per rate that a qualified invoice states (消費税法 第57条の4 第1項 第4号). EN 16931 has it per category (BR-S-08, BR-AA-08…); JP PINT 1.1.2 does not check it.',
    check: (d) =>
      (taxTotal(d)?.subtotals ?? [])
        .filter((s) => s.category && v(s.taxable) !== undefined && v(s.taxable) !== taxableOf(d, s.category))
        .map(
          (s) => `rate ${key(s.category)}: ${s.taxable!.text} ≠ ${formatDecimal(taxableOf(d, s.category!))}`,
        ),
  },
  {
    id: 'aligned-ibrp-051-jp',
    text: 'Tax category tax amount (ibt-117) = tax category taxable amount (ibt-116) x (tax category rate (ibt-119) / 100), rounded to integer. The rounded result amount shall be between the floor and the ceiling.',
    check: (d) =>
      (taxTotal(d)?.subtotals ?? []).flatMap((s) => {
        const taxable = v(s.taxable);
        const tax = v(s.tax);
        if (taxable === undefined || tax === undefined || !s.category) return [];
        if (s.category.id === 'O' || s.category.percent === undefined || s.category.percent === 0n)
          return tax === 0n ? [] : [`rate ${key(s.category)}: tax must be 0`];
        const { floor, ceiling } = percentOf(taxable, s.category.percent);
        return tax >= floor && tax <= ceiling
          ? []
          : [
              `rate ${key(s.category)}: ${s.tax!.text} outside [${formatDecimal(floor)}, ${formatDecimal(ceiling)}]`,
            ];
      }),
  },
  {
    id: 'aligned-ibrp-e-09',
    text: 'The tax category tax amount (ibt-117) in a tax breakdown (ibg-23) where the tax category code (ibt-118) is "Exempt from tax", "Export" or "Not subject to tax" MUST equal 0 (aligned-ibrp-e-09, -g-09, -o-09).',
    check: (d) =>
      (taxTotal(d)?.subtotals ?? [])
        .filter((s) => ['E', 'G', 'O'].includes(s.category?.id ?? '') && v(s.tax) !== 0n)
        .map((s) => `category ${s.category!.id}`),
  },
  {
    id: 'aligned-ibr-jp-06',
    text: 'Tax category tax amount (ibt-117) with currency code JPY and tax category tax amount in accounting currency (ibt-190) shall not have decimal.',
    check: (d) =>
      d.taxTotals
        .flatMap((t) => t.subtotals)
        .filter((s) => s.tax?.currency === 'JPY' && hasFraction(s.tax.text))
        .map((s) => `rate ${key(s.category)}: ${s.tax!.text}`),
  },
  {
    id: 'qerds-jp-jpy-integer',
    severity: 'warning',
    text: 'JPY has no minor unit (ISO 4217): amounts in JPY should be integers. JP PINT 1.1.2 enforces this only on tax amounts (aligned-ibr-jp-06); its predecessor JP BIS 3.0 made it a rule for all amounts (jp-br-02). Prices (ibt-146) may have decimals; tax amounts per rate fall under aligned-ibr-jp-06.',
    check: (d) =>
      d.amounts
        .filter(
          (a) =>
            a.currency === 'JPY' &&
            hasFraction(a.text) &&
            !/(PriceAmount|TaxSubtotal\/TaxAmount)$/.test(a.path),
        )
        .map((a) => `${a.path}: ${a.text}`),
  },
  {
    id: 'ibr-012',
    text: 'An Invoice MUST have the Sum of Invoice line net amount (ibt-106).',
    check: (d) => when(!d.monetaryTotal?.lineExtension, LMT),
  },
  {
    id: 'ibr-013',
    text: 'An Invoice MUST have the Invoice total amount without Tax (ibt-109).',
    check: (d) => when(!d.monetaryTotal?.taxExclusive, LMT),
  },
  {
    id: 'ibr-014',
    text: 'An Invoice MUST have the Invoice total amount with Tax (ibt-112).',
    check: (d) => when(!d.monetaryTotal?.taxInclusive, LMT),
  },
  {
    id: 'ibr-015',
    text: 'An Invoice MUST have the Amount due for payment (ibt-115).',
    check: (d) => when(!d.monetaryTotal?.payable, LMT),
  },
  {
    id: 'ibr-co-10',
    text: 'Sum of Invoice line net amount (ibt-106) = Σ Invoice line net amount (ibt-131).',
    check: (d) => {
      const total = v(d.monetaryTotal?.lineExtension);
      return when(
        total !== undefined && total !== sum(d.lines.map((l) => v(l.lineExtension) ?? 0n)),
        `${LMT}/cbc:LineExtensionAmount`,
      );
    },
  },
  {
    id: 'ibr-co-11',
    text: 'Sum of allowances on document level (ibt-107) = Σ Document level allowance amount (ibt-92).',
    check: (d) => {
      const total = v(d.monetaryTotal?.allowanceTotal);
      const parts = d.allowanceCharges.filter((a) => !a.charge);
      return when(
        total === undefined ? parts.length > 0 : total !== sum(parts.map((a) => v(a.amount) ?? 0n)),
        `${LMT}/cbc:AllowanceTotalAmount`,
      );
    },
  },
  {
    id: 'ibr-co-12',
    text: 'Sum of charges on document level (ibt-108) = Σ Document level charge amount (ibt-99).',
    check: (d) => {
      const total = v(d.monetaryTotal?.chargeTotal);
      const parts = d.allowanceCharges.filter((a) => a.charge);
      return when(
        total === undefined ? parts.length > 0 : total !== sum(parts.map((a) => v(a.amount) ?? 0n)),
        `${LMT}/cbc:ChargeTotalAmount`,
      );
    },
  },
  {
    id: 'ibr-co-13',
    text: 'Invoice total amount without Tax (ibt-109) = Σ Invoice line net amount (ibt-131) - Sum of allowances on document level (ibt-107) + Sum of charges on document level (ibt-108).',
    check: (d) => {
      const m = d.monetaryTotal;
      const exclusive = v(m?.taxExclusive);
      const expected = (v(m?.lineExtension) ?? 0n) - (v(m?.allowanceTotal) ?? 0n) + (v(m?.chargeTotal) ?? 0n);
      return when(exclusive !== undefined && exclusive !== expected, `${LMT}/cbc:TaxExclusiveAmount`);
    },
  },
  {
    id: 'ibr-co-14',
    text: 'Invoice total Tax amount (ibt-110) = Σ Tax category tax amount (ibt-117).',
    check: (d) => {
      const t = taxTotal(d);
      return when(
        !!t && v(t.tax) !== sum(t.subtotals.map((s) => v(s.tax) ?? 0n)),
        'cac:TaxTotal/cbc:TaxAmount',
      );
    },
  },
  {
    id: 'ibr-co-15',
    text: 'Invoice total amount with Tax (ibt-112) = Invoice total amount without Tax (ibt-109) + Invoice total Tax amount (ibt-110).',
    check: (d) => {
      const m = d.monetaryTotal;
      const inclusive = v(m?.taxInclusive);
      return when(
        inclusive !== undefined && inclusive !== (v(m?.taxExclusive) ?? 0n) + (v(taxTotal(d)?.tax) ?? 0n),
        `${LMT}/cbc:TaxInclusiveAmount`,
      );
    },
  },
  {
    id: 'ibr-co-16',
    text: 'Amount due for payment (ibt-115) = Invoice total amount with Tax (ibt-112) - Paid amount (ibt-113) + Rounding amount (ibt-114).',
    check: (d) => {
      const m = d.monetaryTotal;
      const payable = v(m?.payable);
      return when(
        payable !== undefined &&
          payable !== (v(m?.taxInclusive) ?? 0n) - (v(m?.prepaid) ?? 0n) + (v(m?.payableRounding) ?? 0n),
        `${LMT}/cbc:PayableAmount`,
      );
    },
  },
  {
    id: 'qerds-payment-due-date-or-terms',
    severity: 'warning',
    text: 'In case the Amount due for payment (ibt-115) is positive, either the Payment due date (ibt-009) or the Payment terms (ibt-020) should be present (EN 16931 BR-CO-25). JP PINT 1.1.2 has no such rule, so this is a warning.',
    check: (d) =>
      when(
        d.root === 'Invoice' && (v(d.monetaryTotal?.payable) ?? 0n) > 0n && !d.dueDate && !d.paymentTerms,
        `${LMT}/cbc:PayableAmount`,
      ),
  },
  {
    id: 'ibr-126',
    text: 'All currencyID attributes must have the same value as the Invoice currency code (ibt-005), except for amounts expected to be in Tax accounting currency (ibt-006).',
    // The official rule's elements: the amounts named below anywhere, and the amounts of a tax total whose tax
    // amount is in the document currency (here: the document-level tax totals). A tax total in another currency
    // is left alone whatever that currency is, as there.
    check: (d) => {
      const foreign = (a: Amount | undefined): a is Amount => !!a && a.currency !== d.documentCurrency;
      const taxAmounts = d.taxTotals
        .filter((t) => t.tax?.currency === d.documentCurrency)
        .flatMap((t) => [
          ...(foreign(t.tax) ? [{ ...t.tax, path: 'TaxTotal/TaxAmount' }] : []),
          ...t.subtotals.flatMap((s) => [
            ...(foreign(s.taxable) ? [{ ...s.taxable, path: 'TaxSubtotal/TaxableAmount' }] : []),
            ...(foreign(s.tax) ? [{ ...s.tax, path: 'TaxSubtotal/TaxAmount' }] : []),
          ]),
        ]);
      return [...d.amounts.filter((a) => IBR_126_NAMES.test(a.path) && foreign(a)), ...taxAmounts].map(
        (a) => `${a.path}: ${a.currency}`,
      );
    },
  },
  {
    id: 'qerds-decimal',
    text: 'Amounts, prices and rates are xs:decimal numbers (at most six fraction digits are read).',
    check: (d) => [
      ...d.amounts.filter((a) => a.value === undefined).map((a) => `${a.path}: "${a.text}"`),
      ...allCategories(d)
        .filter((c) => c.percentText !== undefined && c.percent === undefined)
        .map((c) => `Percent "${c.percentText}"`),
    ],
  },
]);

/** Check a UBL Invoice or CreditNote (XML text, or its root element) against the JP PINT rules above. */
export function validateJpPint(document: string | Element): PeppolFinding[] {
  const root =
    typeof document === 'string'
      ? parseXmlStrict(document, 'PEPPOL_INVOICE_INVALID', { what: 'JP PINT document' }).documentElement
      : document;
  const doc = readUblInvoice(root);
  if (!doc) {
    return [
      {
        rule: 'qerds-ubl-root',
        severity: 'fatal',
        message: `not a UBL 2.1 Invoice or CreditNote: {${root.namespaceURI}}${root.localName}`,
        location: root.localName,
      },
    ];
  }
  return JP_PINT_RULES.flatMap((rule) =>
    rule.check(doc).map((location) => ({
      rule: rule.id,
      severity: rule.severity ?? 'fatal',
      message: `[${rule.id}] ${rule.text}`,
      location,
    })),
  );
}

/** validateJpPint, thrown: a fatal finding → QerdsError PEPPOL_INVOICE_INVALID with every finding in `details.findings`. */
export function assertJpPint(document: string | Element): PeppolFinding[] {
  const findings = validateJpPint(document);
  const fatal = findings.filter((f) => f.severity === 'fatal');
  if (fatal.length > 0) {
    throw new QerdsError(
      'PEPPOL_INVOICE_INVALID',
      `JP PINT: ${fatal.map((f) => `${f.rule} (${f.location ?? ''})`).join('; ')}`,
      { details: { findings } },
    );
  }
  return findings;
}
