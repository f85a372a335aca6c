import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isQerdsError } from '../../src/core/errors.js';
import { assertJpPint, JP_PINT_RULES, parseSbd, validateJpPint } from '../../src/peppol/index.js';
import { parseDecimal, percentOf } from '../../src/peppol/decimal.js';

const dir = new URL('../fixtures/peppol/jp-pint/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(name, dir), 'utf8');
const good = [
  'selfbilling-invoice.xml',
  'invoice-standard-rate.xml',
  'invoice-reduced-rate.xml',
  'invoice-mixed-rates.xml',
  'credit-note.xml',
  'invoice-usd-with-jpy-tax.xml',
];
const broken = readdirSync(new URL('broken/', dir)).filter((f) => f.endsWith('.xml'));

describe('JP PINT samples', () => {
  it.each(good)('%s passes every rule (no finding at all)', (name) => {
    expect(validateJpPint(fixture(name))).toEqual([]);
    expect(() => assertJpPint(fixture(name))).not.toThrow();
  });

  it('validates the invoice inside an SBD (the business message element)', () => {
    const { businessMessage } = parseSbd(
      readFileSync(new URL('../fixtures/peppol/sbdh/jp-pint-invoice-sbd.xml', import.meta.url), 'utf8'),
    );
    expect(validateJpPint(businessMessage)).toEqual([]);
  });

  it('has one broken variant per rule it is named after, and every variant names an existing rule', () => {
    expect(broken.length).toBeGreaterThanOrEqual(20);
    const ids = new Set(JP_PINT_RULES.map((r) => r.id));
    for (const f of broken) expect(ids.has(f.replace(/\.xml$/, '')), f).toBe(true);
  });

  it.each(broken)('%s is refused by the rule it is named after', (file) => {
    const rule = file.replace(/\.xml$/, '');
    const findings = validateJpPint(fixture(`broken/${file}`));
    const hit = findings.find((f) => f.rule === rule);
    expect(hit, JSON.stringify(findings, null, 1)).toBeDefined();
    expect(hit!.message).toContain(`[${rule}]`);
    if (JP_PINT_RULES.find((r) => r.id === rule)!.severity === 'warning') {
      expect(hit!.severity).toBe('warning');
      expect(() => assertJpPint(fixture(`broken/${file}`))).not.toThrow();
    } else {
      let thrown: unknown;
      try {
        assertJpPint(fixture(`broken/${file}`));
      } catch (e) {
        thrown = e;
      }
      expect(isQerdsError(thrown, 'PEPPOL_INVOICE_INVALID')).toBe(true);
      expect((thrown as { details: { findings: unknown[] } }).details.findings).toContainEqual(hit);
    }
  });

  it('names where the rule broke: the tax per rate outside floor and ceiling', () => {
    const f = validateJpPint(fixture('broken/aligned-ibrp-051-jp.xml')).find(
      (x) => x.rule === 'aligned-ibrp-051-jp',
    );
    expect(f?.location).toBe('rate S|10: 2010 outside [2000, 2000]');
  });

  it('accepts any rounding of the tax per rate between floor and ceiling (198.4 → 198 or 199)', () => {
    const up = fixture('invoice-mixed-rates.xml')
      .replace(
        '<cbc:TaxAmount currencyID="JPY">198</cbc:TaxAmount>',
        '<cbc:TaxAmount currencyID="JPY">199</cbc:TaxAmount>',
      )
      .replace(
        '<cbc:TaxAmount currencyID="JPY">1198</cbc:TaxAmount>',
        '<cbc:TaxAmount currencyID="JPY">1199</cbc:TaxAmount>',
      )
      .replace(/13678/g, '13679');
    expect(validateJpPint(up)).toEqual([]);
    const off = up.replace(
      '<cbc:TaxAmount currencyID="JPY">199</cbc:TaxAmount>',
      '<cbc:TaxAmount currencyID="JPY">200</cbc:TaxAmount>',
    );
    expect(validateJpPint(off).map((f) => f.rule)).toContain('aligned-ibrp-051-jp');
  });

  it('refuses what is not a UBL invoice, and malformed XML with the invoice code', () => {
    expect(validateJpPint('<x xmlns="urn:other"/>').map((f) => f.rule)).toEqual(['qerds-ubl-root']);
    let thrown: unknown;
    try {
      validateJpPint('<Invoice');
    } catch (e) {
      thrown = e;
    }
    expect(isQerdsError(thrown, 'PEPPOL_INVOICE_INVALID')).toBe(true);
  });
});

describe('exact decimal arithmetic', () => {
  it('parses xs:decimal to millionths and refuses what is not one', () => {
    expect(parseDecimal('1000')).toBe(1_000_000_000n);
    expect(parseDecimal('-0.5')).toBe(-500_000n);
    expect(parseDecimal('1e3')).toBeUndefined();
    expect(parseDecimal('1.1234567')).toBeUndefined();
  });

  it('computes floor and ceiling of the tax per rate, also for negative (credit) amounts', () => {
    expect(percentOf(parseDecimal('2480')!, parseDecimal('8')!)).toMatchObject({
      floor: 198_000_000n,
      ceiling: 199_000_000n,
    });
    expect(percentOf(parseDecimal('20000')!, parseDecimal('10')!)).toMatchObject({
      floor: 2_000_000_000n,
      ceiling: 2_000_000_000n,
    });
    expect(percentOf(parseDecimal('-2480')!, parseDecimal('8')!)).toMatchObject({
      floor: -199_000_000n,
      ceiling: -198_000_000n,
    });
  });
});

describe('our rules where the official JP PINT 1.1.2 rules of the same id draw the line', () => {
  const rules = (xml: string) => validateJpPint(xml).map((f) => f.rule);
  const standard = () => fixture('invoice-standard-rate.xml');
  const usd = () => fixture('invoice-usd-with-jpy-tax.xml');

  it('a missing issue date is ibr-003; one that is no calendar day (or a bad period date) is ibr-073', () => {
    expect(rules(standard().replace('<cbc:IssueDate>2024-04-30<', '<cbc:IssueDate> <'))).toEqual(['ibr-003']);
    expect(rules(standard().replace('<cbc:IssueDate>2024-04-30<', '<cbc:IssueDate>2023-02-29<'))).toEqual([
      'ibr-073',
    ]);
    expect(rules(standard().replace('<cbc:IssueDate>2024-04-30<', '<cbc:IssueDate>2024-02-29<'))).toEqual([]);
    const f = validateJpPint(standard().replace('<cbc:EndDate>2024-04-30<', '<cbc:EndDate>2024-4-30<'));
    expect(f.map((x) => [x.rule, x.location])).toEqual([['ibr-073', 'cac:InvoicePeriod "2024-4-30"']]);
  });

  it('a missing currency code is ibr-005; one that is not three capital letters is ibr-cl-04', () => {
    const missing = rules(
      standard().replace('<cbc:DocumentCurrencyCode>JPY<', '<cbc:DocumentCurrencyCode><'),
    );
    expect(missing).toContain('ibr-005');
    expect(missing).not.toContain('ibr-cl-04');
    const lower = rules(
      standard().replace('<cbc:DocumentCurrencyCode>JPY<', '<cbc:DocumentCurrencyCode>jpy<'),
    );
    expect(lower).toContain('ibr-cl-04');
    expect(lower).not.toContain('ibr-005');
  });

  it('a line net amount that is there but no decimal is qerds-decimal, not ibr-024 (which asks only that it exists)', () => {
    const r = rules(standard().replace('currencyID="JPY">15000<', 'currencyID="JPY">15 000<'));
    expect(r).toContain('qerds-decimal');
    expect(r).not.toContain('ibr-024');
  });

  it('ibr-126 reads the amounts of the tax total in the document currency, not those of a tax total in another', () => {
    const subtotalInYen = usd().replace(
      '<cbc:TaxableAmount currencyID="USD">200.00</cbc:TaxableAmount>\n      <cbc:TaxAmount currencyID="USD">20.00</cbc:TaxAmount>',
      '<cbc:TaxableAmount currencyID="USD">200.00</cbc:TaxableAmount>\n      <cbc:TaxAmount currencyID="JPY">3000</cbc:TaxAmount>',
    );
    expect(
      validateJpPint(subtotalInYen)
        .filter((f) => f.rule === 'ibr-126')
        .map((f) => f.location),
    ).toEqual(['TaxSubtotal/TaxAmount: JPY']);
    const secondTotalInEuro = usd().replace(/currencyID="JPY">(30000|3000)</g, 'currencyID="EUR">$1<');
    expect(rules(secondTotalInEuro)).not.toContain('ibr-126');
    expect(rules(secondTotalInEuro)).toContain('ibr-053');
  });

  it('aligned-ibrp-e-01: an exempt category anywhere needs exactly one exempt breakdown; S and AA fall to qerds-jp-tax-per-rate', () => {
    const exempt = (xml: string) =>
      xml.replace(
        /<cbc:ID>S<\/cbc:ID>\s*<cbc:Percent>10<\/cbc:Percent>/g,
        '<cbc:ID>E</cbc:ID><cbc:Percent>0</cbc:Percent>',
      );
    const allExempt = exempt(standard())
      .replace(/currencyID="JPY">2000</g, 'currencyID="JPY">0<')
      .replace(/22000/g, '20000');
    expect(rules(allExempt)).toEqual([]);
    const subtotal = /<cac:TaxSubtotal>[\s\S]*?<\/cac:TaxSubtotal>/.exec(allExempt)![0];
    expect(rules(allExempt.replace(subtotal, subtotal + subtotal))).toContain('aligned-ibrp-e-01');
    const noBreakdown = standard().replace(/<cac:TaxSubtotal>[\s\S]*?<\/cac:TaxSubtotal>/, '');
    expect(rules(noBreakdown)).toContain('qerds-jp-tax-per-rate');
    expect(rules(noBreakdown)).not.toContain('aligned-ibrp-e-01');
  });
});
