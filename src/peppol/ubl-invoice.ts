import { childElements, textOf } from '../xml/index.js';
import { parseDecimal, type Micros } from './decimal.js';
import { UBL_CREDIT_NOTE_NS, UBL_INVOICE_NS } from './identifiers.js';

/**
 * The parts of a UBL 2.1 Invoice or CreditNote that the JP PINT rules read (PINT business terms in brackets).
 * Only what the rules need is modelled; the rest of the document is left alone.
 */
export const CBC = 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2';
export const CAC = 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2';

/** `<cbc:…Amount currencyID="JPY">1000</cbc:…Amount>`; `value` undefined when the text is not a decimal. */
export interface Amount {
  readonly text: string;
  readonly value?: Micros;
  readonly currency: string;
}

/** cac:TaxCategory / cac:ClassifiedTaxCategory: code (ibt-118/151/95/102), rate (ibt-119/152/96/103), scheme. */
export interface TaxCategory {
  readonly id: string;
  readonly percent?: Micros;
  readonly percentText?: string;
  readonly scheme: string;
}

export interface InvoiceLine {
  readonly id: string;
  readonly quantityPresent: boolean;
  readonly lineExtension?: Amount;
  readonly itemName: string;
  readonly price?: Amount;
  readonly taxCategory?: TaxCategory;
}

export interface AllowanceCharge {
  readonly charge: boolean;
  readonly amount?: Amount;
  readonly taxCategory?: TaxCategory;
}

export interface TaxSubtotal {
  readonly taxable?: Amount;
  readonly tax?: Amount;
  readonly category?: TaxCategory;
}

export interface TaxTotal {
  readonly tax?: Amount;
  readonly subtotals: readonly TaxSubtotal[];
}

/** cac:LegalMonetaryTotal (ibg-22). */
export interface MonetaryTotal {
  readonly lineExtension?: Amount;
  readonly taxExclusive?: Amount;
  readonly taxInclusive?: Amount;
  readonly allowanceTotal?: Amount;
  readonly chargeTotal?: Amount;
  readonly prepaid?: Amount;
  readonly payableRounding?: Amount;
  readonly payable?: Amount;
}

export interface UblInvoice {
  readonly root: 'Invoice' | 'CreditNote';
  readonly customizationId: string;
  readonly profileId: string;
  readonly id: string;
  readonly issueDate: string;
  /** Payment due date (ibt-9), or PaymentMeans/PaymentDueDate of a credit note. */
  readonly dueDate?: string;
  /** Payment terms (ibt-20). */
  readonly paymentTerms?: string;
  readonly typeCode: string;
  readonly documentCurrency: string;
  readonly taxCurrency?: string;
  /** StartDate/EndDate of the invoice period (ibg-14) and of every line period (ibg-26). */
  readonly periodDates: readonly string[];
  readonly hasPeriod: boolean;
  readonly sellerName: string;
  readonly buyerName: string;
  /** PartyTaxScheme of the seller: CompanyID (ibt-31/32) with its tax scheme. */
  readonly sellerTaxIds: readonly { readonly companyId: string; readonly scheme: string }[];
  /** PartyLegalEntity/CompanyID of the seller (ibt-30) with its @schemeID (an ICD: 0188 is the corporate number). */
  readonly sellerLegalId?: { readonly companyId: string; readonly schemeId: string };
  readonly lines: readonly InvoiceLine[];
  readonly allowanceCharges: readonly AllowanceCharge[];
  readonly taxTotals: readonly TaxTotal[];
  readonly monetaryTotal?: MonetaryTotal;
  /** Every `currencyID`-bearing amount in the document, for the currency rules. */
  readonly amounts: readonly (Amount & { readonly path: string })[];
}

const cbc = (parent: Element | undefined, name: string): Element | undefined =>
  parent ? childElements(parent, CBC, name)[0] : undefined;
const cac = (parent: Element | undefined, name: string): Element | undefined =>
  parent ? childElements(parent, CAC, name)[0] : undefined;
const cacAll = (parent: Element, name: string): Element[] => childElements(parent, CAC, name);
const text = (el: Element | undefined): string => (el ? textOf(el) : '');

function amountOf(el: Element | undefined): Amount | undefined {
  if (!el) return undefined;
  const t = textOf(el);
  const value = parseDecimal(t);
  return {
    text: t,
    currency: el.getAttribute('currencyID') ?? '',
    ...(value === undefined ? {} : { value }),
  };
}

function taxCategoryOf(el: Element | undefined): TaxCategory | undefined {
  if (!el) return undefined;
  const percentText = cbc(el, 'Percent') ? text(cbc(el, 'Percent')) : undefined;
  const percent = percentText === undefined ? undefined : parseDecimal(percentText);
  return {
    id: text(cbc(el, 'ID')),
    scheme: text(cbc(cac(el, 'TaxScheme'), 'ID')),
    ...(percentText === undefined ? {} : { percentText }),
    ...(percent === undefined ? {} : { percent }),
  };
}

function collectAmounts(el: Element, path: string, out: (Amount & { path: string })[]): void {
  for (const child of childElements(el)) {
    const here = `${path}/${child.localName}`;
    if (child.hasAttribute('currencyID')) out.push({ ...amountOf(child)!, path: here });
    collectAmounts(child, here, out);
  }
}

/** Read an Invoice or CreditNote element into the model; undefined when the root is neither. */
export function readUblInvoice(root: Element): UblInvoice | undefined {
  const kind =
    root.namespaceURI === UBL_INVOICE_NS && root.localName === 'Invoice'
      ? 'Invoice'
      : root.namespaceURI === UBL_CREDIT_NOTE_NS && root.localName === 'CreditNote'
        ? 'CreditNote'
        : undefined;
  if (!kind) return undefined;
  const lineName = kind === 'Invoice' ? 'InvoiceLine' : 'CreditNoteLine';
  const lineEls = cacAll(root, lineName);
  const periods = [...cacAll(root, 'InvoicePeriod'), ...lineEls.flatMap((l) => cacAll(l, 'InvoicePeriod'))];
  const seller = cac(cac(root, 'AccountingSupplierParty'), 'Party');
  const buyer = cac(cac(root, 'AccountingCustomerParty'), 'Party');
  const lmt = cac(root, 'LegalMonetaryTotal');
  const amounts: (Amount & { path: string })[] = [];
  collectAmounts(root, root.localName, amounts);
  return {
    root: kind,
    customizationId: text(cbc(root, 'CustomizationID')),
    profileId: text(cbc(root, 'ProfileID')),
    id: text(cbc(root, 'ID')),
    issueDate: text(cbc(root, 'IssueDate')),
    ...(cbc(root, 'DueDate') ? { dueDate: text(cbc(root, 'DueDate')) } : {}),
    ...(cbc(cac(root, 'PaymentTerms'), 'Note')
      ? { paymentTerms: text(cbc(cac(root, 'PaymentTerms'), 'Note')) }
      : {}),
    typeCode: text(cbc(root, kind === 'Invoice' ? 'InvoiceTypeCode' : 'CreditNoteTypeCode')),
    documentCurrency: text(cbc(root, 'DocumentCurrencyCode')),
    ...(cbc(root, 'TaxCurrencyCode') ? { taxCurrency: text(cbc(root, 'TaxCurrencyCode')) } : {}),
    periodDates: periods.flatMap((p) =>
      [cbc(p, 'StartDate'), cbc(p, 'EndDate')].filter((d): d is Element => !!d).map(textOf),
    ),
    hasPeriod: periods.length > 0,
    sellerName: text(cbc(cac(seller, 'PartyLegalEntity'), 'RegistrationName')),
    buyerName: text(cbc(cac(buyer, 'PartyLegalEntity'), 'RegistrationName')),
    ...(cbc(cac(seller, 'PartyLegalEntity'), 'CompanyID')
      ? {
          sellerLegalId: {
            companyId: text(cbc(cac(seller, 'PartyLegalEntity'), 'CompanyID')),
            schemeId: cbc(cac(seller, 'PartyLegalEntity'), 'CompanyID')!.getAttribute('schemeID') ?? '',
          },
        }
      : {}),
    sellerTaxIds: seller
      ? cacAll(seller, 'PartyTaxScheme').map((s) => ({
          companyId: text(cbc(s, 'CompanyID')),
          scheme: text(cbc(cac(s, 'TaxScheme'), 'ID')),
        }))
      : [],
    lines: lineEls.map((l) => {
      const item = cac(l, 'Item');
      const tc = taxCategoryOf(cac(item, 'ClassifiedTaxCategory'));
      const price = amountOf(cbc(cac(l, 'Price'), 'PriceAmount'));
      const ext = amountOf(cbc(l, 'LineExtensionAmount'));
      return {
        id: text(cbc(l, 'ID')),
        quantityPresent: !!cbc(l, kind === 'Invoice' ? 'InvoicedQuantity' : 'CreditedQuantity'),
        itemName: text(cbc(item, 'Name')),
        ...(ext ? { lineExtension: ext } : {}),
        ...(price ? { price } : {}),
        ...(tc ? { taxCategory: tc } : {}),
      };
    }),
    allowanceCharges: cacAll(root, 'AllowanceCharge').map((a) => {
      const amount = amountOf(cbc(a, 'Amount'));
      const tc = taxCategoryOf(cac(a, 'TaxCategory'));
      return {
        charge: text(cbc(a, 'ChargeIndicator')) === 'true',
        ...(amount ? { amount } : {}),
        ...(tc ? { taxCategory: tc } : {}),
      };
    }),
    taxTotals: cacAll(root, 'TaxTotal').map((t) => {
      const tax = amountOf(cbc(t, 'TaxAmount'));
      return {
        ...(tax ? { tax } : {}),
        subtotals: cacAll(t, 'TaxSubtotal').map((s) => {
          const taxable = amountOf(cbc(s, 'TaxableAmount'));
          const sub = amountOf(cbc(s, 'TaxAmount'));
          const category = taxCategoryOf(cac(s, 'TaxCategory'));
          return {
            ...(taxable ? { taxable } : {}),
            ...(sub ? { tax: sub } : {}),
            ...(category ? { category } : {}),
          };
        }),
      };
    }),
    ...(lmt
      ? {
          monetaryTotal: Object.fromEntries(
            (
              [
                ['lineExtension', 'LineExtensionAmount'],
                ['taxExclusive', 'TaxExclusiveAmount'],
                ['taxInclusive', 'TaxInclusiveAmount'],
                ['allowanceTotal', 'AllowanceTotalAmount'],
                ['chargeTotal', 'ChargeTotalAmount'],
                ['prepaid', 'PrepaidAmount'],
                ['payableRounding', 'PayableRoundingAmount'],
                ['payable', 'PayableAmount'],
              ] as const
            ).flatMap(([key, name]) => {
              const a = amountOf(cbc(lmt, name));
              return a ? [[key, a]] : [];
            }),
          ) as MonetaryTotal,
        }
      : {}),
    amounts,
  };
}
