import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { jpPintRefusal } from '../../src/access-point/as4-peppol.js';
import { JP_PINT_RULES, parseSbd, UBL_21_SCHEMA_DIR, validateJpPint } from '../../src/peppol/index.js';
import { serializeXml } from '../../src/xml/index.js';

/**
 * The JP PINT samples against the OASIS UBL 2.1 schemas (test/fixtures/peppol/ubl-2.1/, the runtime `xsdrt` set of
 * the UBL 2.1 OS release), checked by xmllint: an independent implementation of the XSD step of JP PINT validation.
 *
 * What is and is not covered (see test/fixtures/peppol/README.md):
 * - XSD: checked here, in the tests only. qerds-ap does not run the XSD at submission: Node has no XML Schema
 *   validator and adding one (or shelling out to xmllint) is a dependency the product does not take. A submission
 *   that breaks the schema (element order, cardinality, datatypes) but none of the rules in src/peppol/jp-pint.ts
 *   is accepted — the last test shows one.
 * - Schematron: the official JP PINT rules are stored only as XSLT 2.0 compiled from the Schematron (phax/phive-rules
 *   `pint-jp/<version>/xslt/PINT-jurisdiction-aligned-rules.xslt`); xsltproc (libxslt) is XSLT 1.0 and no XSLT 2.0
 *   processor (Saxon-HE) is installed, so the official Schematron is not run, here or in the product. The rules that
 *   matter most are code (src/peppol/jp-pint.ts), each carrying the official id; the broken samples below are
 *   schema-valid and refused by those rules only.
 */
const fixtures = fileURLToPath(new URL('../fixtures/peppol/', import.meta.url));
const xsd = (root: 'Invoice' | 'CreditNote') => join(UBL_21_SCHEMA_DIR, 'maindoc', `UBL-${root}-2.1.xsd`);
const work = mkdtempSync(join(tmpdir(), 'qerds-ubl-xsd-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function xmllint(xml: string, name: string): { ok: boolean; output: string } {
  const file = join(work, name);
  writeFileSync(file, xml);
  const root = /<(?:\w+:)?CreditNote[\s>]/.test(xml) ? 'CreditNote' : 'Invoice';
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--schema', xsd(root), file], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

const samples = readdirSync(join(fixtures, 'jp-pint')).filter((f) => f.endsWith('.xml'));
const broken = readdirSync(join(fixtures, 'jp-pint', 'broken')).filter((f) => f.endsWith('.xml'));
const read = (path: string) => readFileSync(join(fixtures, path), 'utf8');

describe('JP PINT samples against the UBL 2.1 XSD (xmllint)', () => {
  it('there are samples: standard, reduced, mixed rates, credit note, self-billing', () => {
    expect(samples).toEqual(
      expect.arrayContaining([
        'invoice-standard-rate.xml',
        'invoice-reduced-rate.xml',
        'invoice-mixed-rates.xml',
        'credit-note.xml',
        'selfbilling-invoice.xml',
      ]),
    );
  });

  it.each(samples)('%s is valid UBL 2.1 and passes the JP PINT rules', (name) => {
    const r = xmllint(read(`jp-pint/${name}`), name);
    expect(r.ok, r.output).toBe(true);
    expect(r.output).toContain('validates');
    expect(validateJpPint(read(`jp-pint/${name}`)).filter((f) => f.severity === 'fatal')).toEqual([]);
  });

  it('the invoice inside the SBD qerds-ap builds is valid UBL 2.1', () => {
    const { businessMessage } = parseSbd(read('sbdh/jp-pint-invoice-sbd.xml'));
    const xml = serializeXml(businessMessage);
    const r = xmllint(xml, 'business-message.xml');
    expect(r.ok, r.output).toBe(true);
  });

  it.each(broken)(
    'broken/%s is schema-valid; the JP PINT rule it is named after finds it (refused at submission unless that rule only warns)',
    async (file) => {
      const xml = read(`jp-pint/broken/${file}`);
      const r = xmllint(xml, file);
      expect(r.ok, r.output).toBe(true);
      const refusal = await jpPintRefusal(
        [{ partId: 'p', contentType: 'application/xml', sha256: '', size: xml.length }],
        async () => Buffer.from(xml),
      );
      const rule = JP_PINT_RULES.find((r) => r.id === file.replace(/\.xml$/, ''))!;
      expect(validateJpPint(xml).map((f) => f.rule)).toContain(rule.id);
      if (rule.severity === 'warning') expect(refusal).toBeUndefined();
      else expect(refusal).toMatchObject({ code: 'RA02', details: expect.stringMatching(/^JP PINT rule /) });
    },
  );

  it('what the XSD refuses and qerds-ap does not check at submission: elements out of schema order', async () => {
    // IssueDate moved before ID: UBL's sequence is broken, no JP PINT rule of ours looks at the order.
    const xml = read('jp-pint/invoice-standard-rate.xml').replace(
      '<cbc:ID>JP-INV-0001</cbc:ID>\n  <cbc:IssueDate>2024-04-30</cbc:IssueDate>',
      '<cbc:IssueDate>2024-04-30</cbc:IssueDate>\n  <cbc:ID>JP-INV-0001</cbc:ID>',
    );
    expect(xml).not.toBe(read('jp-pint/invoice-standard-rate.xml'));
    const r = xmllint(xml, 'out-of-order.xml');
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(
      /Element '\{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\}(IssueDate|ID)': This element is not expected/,
    );
    // The known gap, asserted so that it is noticed when it closes.
    const refusal = await jpPintRefusal(
      [{ partId: 'p', contentType: 'application/xml', sha256: '', size: xml.length }],
      async () => Buffer.from(xml),
    );
    expect(refusal).toBeUndefined();
  });
});
