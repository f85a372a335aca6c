import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  corporateNumberCheckDigit,
  isCorporateNumber,
  isGs1Mod10,
  validateJpPint,
} from '../../src/peppol/index.js';

const digits = (n: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: n, maxLength: n }).map((d) => d.join(''));

describe('check digits (property)', () => {
  it('a corporate number with its computed check digit is valid; a changed digit is caught unless it swaps 0 and 9', () => {
    fc.assert(
      fc.property(
        digits(12),
        fc.integer({ min: 0, max: 11 }),
        fc.integer({ min: 0, max: 9 }),
        (base, at, digit) => {
          const number = `${corporateNumberCheckDigit(base)}${base}`;
          expect(isCorporateNumber(number)).toBe(true);
          const old = Number(base[at]);
          if (digit === old) return;
          const changed = `${number[0]}${base.slice(0, at)}${digit}${base.slice(at + 1)}`;
          // Weights 1 and 2 modulo 9: only a change by ±9 (0 ↔ 9) leaves the sum's remainder alone.
          expect(isCorporateNumber(changed)).toBe(Math.abs(digit - old) === 9);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('GS1 mod-10 catches every single changed digit', () => {
    fc.assert(
      fc.property(
        digits(12),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 1, max: 9 }),
        (payload, at, delta) => {
          const check = [...Array(10).keys()].find((c) => isGs1Mod10(`${payload}${c}`));
          expect(check).toBeDefined();
          const gln = `${payload}${check}`;
          const changed = `${gln.slice(0, at)}${(Number(gln[at]) + delta) % 10}${gln.slice(at + 1)}`;
          expect(isGs1Mod10(changed)).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

interface Line {
  readonly quantity: number;
  readonly price: number;
  readonly category: 'S' | 'AA';
}
const RATE = { S: 10, AA: 8 } as const;

/** A JP PINT invoice for the lines, tax per rate rounded down or up as asked. */
function invoiceXml(lines: readonly Line[], roundUp: boolean): { xml: string; payable: number } {
  const groups = new Map<Line['category'], number>();
  for (const l of lines) groups.set(l.category, (groups.get(l.category) ?? 0) + l.quantity * l.price);
  const subtotals = [...groups].map(([category, taxable]) => {
    const exact = (taxable * RATE[category]) / 100;
    return { category, taxable, tax: roundUp ? Math.ceil(exact) : Math.floor(exact) };
  });
  const net = [...groups.values()].reduce((a, b) => a + b, 0);
  const tax = subtotals.reduce((a, s) => a + s.tax, 0);
  const cat = (tag: string, c: Line['category']) =>
    `<cac:${tag}><cbc:ID>${c}</cbc:ID><cbc:Percent>${RATE[c]}</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:${tag}>`;
  const party = (tag: string, name: string, tax?: string) =>
    `<cac:${tag}><cac:Party><cac:PostalAddress><cac:Country><cbc:IdentificationCode>JP</cbc:IdentificationCode></cac:Country></cac:PostalAddress>${
      tax
        ? `<cac:PartyTaxScheme><cbc:CompanyID>${tax}</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>`
        : ''
    }<cac:PartyLegalEntity><cbc:RegistrationName>${name}</cbc:RegistrationName></cac:PartyLegalEntity></cac:Party></cac:${tag}>`;
  const xml = `<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2" xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
<cbc:CustomizationID>urn:peppol:pint:billing-1@jp-1</cbc:CustomizationID><cbc:ProfileID>urn:peppol:bis:billing</cbc:ProfileID>
<cbc:ID>P-1</cbc:ID><cbc:IssueDate>2024-06-30</cbc:IssueDate><cbc:DueDate>2024-07-31</cbc:DueDate><cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
<cbc:DocumentCurrencyCode>JPY</cbc:DocumentCurrencyCode><cac:InvoicePeriod><cbc:StartDate>2024-06-01</cbc:StartDate><cbc:EndDate>2024-06-30</cbc:EndDate></cac:InvoicePeriod>
${party('AccountingSupplierParty', 'Seller', 'T9010401012345')}${party('AccountingCustomerParty', 'Buyer')}
<cac:TaxTotal><cbc:TaxAmount currencyID="JPY">${tax}</cbc:TaxAmount>${subtotals
    .map(
      (s) =>
        `<cac:TaxSubtotal><cbc:TaxableAmount currencyID="JPY">${s.taxable}</cbc:TaxableAmount><cbc:TaxAmount currencyID="JPY">${s.tax}</cbc:TaxAmount>${cat('TaxCategory', s.category)}</cac:TaxSubtotal>`,
    )
    .join('')}</cac:TaxTotal>
<cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="JPY">${net}</cbc:LineExtensionAmount><cbc:TaxExclusiveAmount currencyID="JPY">${net}</cbc:TaxExclusiveAmount><cbc:TaxInclusiveAmount currencyID="JPY">${net + tax}</cbc:TaxInclusiveAmount><cbc:PayableAmount currencyID="JPY">${net + tax}</cbc:PayableAmount></cac:LegalMonetaryTotal>
${lines
  .map(
    (l, i) =>
      `<cac:InvoiceLine><cbc:ID>${i + 1}</cbc:ID><cbc:InvoicedQuantity unitCode="H87">${l.quantity}</cbc:InvoicedQuantity><cbc:LineExtensionAmount currencyID="JPY">${l.quantity * l.price}</cbc:LineExtensionAmount><cac:Item><cbc:Name>item ${i + 1}</cbc:Name>${cat('ClassifiedTaxCategory', l.category)}</cac:Item><cac:Price><cbc:PriceAmount currencyID="JPY">${l.price}</cbc:PriceAmount></cac:Price></cac:InvoiceLine>`,
  )
  .join('')}
</Invoice>`;
  return { xml, payable: net + tax };
}

const lines = fc.array(
  fc.record({
    quantity: fc.integer({ min: 1, max: 50 }),
    price: fc.integer({ min: 1, max: 200_000 }),
    category: fc.constantFrom<'S' | 'AA'>('S', 'AA'),
  }),
  { minLength: 1, maxLength: 8 },
);

describe('JP PINT arithmetic (property)', () => {
  it('an invoice whose tax per rate is rounded either way passes; one yen more to pay is caught by ibr-co-16', () => {
    fc.assert(
      fc.property(lines, fc.boolean(), (ls, roundUp) => {
        const { xml, payable } = invoiceXml(ls, roundUp);
        expect(validateJpPint(xml)).toEqual([]);
        const more = xml.replace(
          `<cbc:PayableAmount currencyID="JPY">${payable}<`,
          `<cbc:PayableAmount currencyID="JPY">${payable + 1}<`,
        );
        expect(validateJpPint(more).map((f) => f.rule)).toEqual(['ibr-co-16']);
      }),
      { numRuns: 150 },
    );
  });

  it('a tax per rate one yen beyond the ceiling is caught by aligned-ibrp-051-jp', () => {
    fc.assert(
      fc.property(lines, (ls) => {
        const { xml } = invoiceXml(ls, true);
        const first =
          /<cac:TaxSubtotal><cbc:TaxableAmount currencyID="JPY">\d+<\/cbc:TaxableAmount><cbc:TaxAmount currencyID="JPY">(\d+)</.exec(
            xml,
          )!;
        const bumped = xml.replace(first[0], first[0].replace(`>${first[1]}<`, `>${Number(first[1]) + 1}<`));
        expect(validateJpPint(bumped).map((f) => f.rule)).toContain('aligned-ibrp-051-jp');
      }),
      { numRuns: 100 },
    );
  });
});
