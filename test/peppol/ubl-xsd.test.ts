import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { jpPintRefusal } from '../../src/access-point/as4-peppol.js';
import { checkJpPintDocument } from '../../src/access-point/jp-pint-validation.js';
import { createAccessPoint } from '../../src/access-point.js';
import { isQerdsError } from '../../src/core/errors.js';
import {
  createUblXsdCheck,
  JP_PINT_RULES,
  parseSbd,
  UBL_21_SCHEMA_DIR,
  validateJpPint,
} from '../../src/peppol/index.js';
import { serializeXml } from '../../src/xml/index.js';

/**
 * The JP PINT samples against the OASIS UBL 2.1 schemas (test/fixtures/peppol/ubl-2.1/, the runtime `xsdrt` set of
 * the UBL 2.1 OS release), checked by xmllint: an independent implementation of the XSD step of JP PINT validation.
 *
 * What is and is not covered (see test/fixtures/peppol/README.md):
 * - XSD: the product runs the same check at submission (src/peppol/ubl-xsd.ts, xmllint in a subprocess, on by
 *   default on the Peppol profile: `peppol.xsd`); the last tests drive it. Without it a submission that breaks the
 *   schema (element order, cardinality, datatypes) but none of the rules in src/peppol/jp-pint.ts is accepted.
 * - Schematron: the official JP PINT rules (XSLT 2.0 compiled from the Schematron) run in Saxon-HE when configured
 *   (`peppol.jpPint.schematron`): test/peppol/jp-pint-schematron.test.ts. The broken samples below are
 *   schema-valid and refused by the rule of our code they are named after.
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

  it('elements out of schema order: no JP PINT rule of ours looks at the order, the XSD check at submission refuses it naming line and element', async () => {
    // IssueDate moved before ID: UBL's sequence is broken.
    const xml = read('jp-pint/invoice-standard-rate.xml').replace(
      '<cbc:ID>JP-INV-0001</cbc:ID>\n  <cbc:IssueDate>2024-04-30</cbc:IssueDate>',
      '<cbc:IssueDate>2024-04-30</cbc:IssueDate>\n  <cbc:ID>JP-INV-0001</cbc:ID>',
    );
    expect(xml).not.toBe(read('jp-pint/invoice-standard-rate.xml'));
    const r = xmllint(xml, 'out-of-order.xml');
    expect(r.ok).toBe(false);
    expect(validateJpPint(xml).filter((f) => f.severity === 'fatal')).toEqual([]);
    const part = [{ partId: 'p', contentType: 'application/xml', sha256: '', size: xml.length }];
    expect(await jpPintRefusal(part, async () => Buffer.from(xml))).toBeUndefined();
    const refusal = await jpPintRefusal(part, async () => Buffer.from(xml), { xsd: createUblXsdCheck() });
    expect(refusal).toMatchObject({ code: 'RA02' });
    expect(refusal!.details).toMatch(
      /^UBL 2\.1 XSD: line 8: element IssueDate: Schemas validity error : Element '\{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2\}IssueDate': This element is not expected/,
    );
  });
});

describe('the XSD check of submissions (src/peppol/ubl-xsd.ts, xmllint subprocess)', () => {
  const thrown = async (p: Promise<unknown>) => {
    try {
      await p;
      return undefined;
    } catch (error) {
      return isQerdsError(error) ? { code: error.code, message: error.message } : { code: String(error) };
    }
  };

  it('starts with the shipped schemas; every sample is valid, credit note against the CreditNote schema', async () => {
    const check = createUblXsdCheck();
    await expect(check.selfTest()).resolves.toBeUndefined();
    for (const name of samples) {
      const root = name.startsWith('credit-note') ? 'CreditNote' : 'Invoice';
      expect(await check.validate(root, Buffer.from(read(`jp-pint/${name}`))), name).toMatchObject({
        valid: true,
      });
    }
    // The root decides the schema: an invoice is not a valid CreditNote.
    const wrong = await check.validate('CreditNote', Buffer.from(read('jp-pint/invoice-standard-rate.xml')));
    expect(wrong.valid).toBe(false);
  });

  it('a datatype the XSD refuses (a date that is no xs:date) is refused naming line and element', async () => {
    const xml = read('jp-pint/invoice-standard-rate.xml').replace(
      '<cbc:IssueDate>2024-04-30</cbc:IssueDate>',
      '<cbc:IssueDate>2024-04-31</cbc:IssueDate>',
    );
    const refusal = await checkJpPintDocument(Buffer.from(xml), { xsd: createUblXsdCheck() });
    expect(refusal?.details).toMatch(
      /^UBL 2\.1 XSD: line 9: element IssueDate: .*'2024-04-31' is not a valid value/,
    );
  });

  it('a DOCTYPE never reaches xmllint: refused before, as not a JP PINT document', async () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>${read('jp-pint/invoice-standard-rate.xml').replace(/^<\?xml[^>]*>/, '')}`;
    const refusal = await checkJpPintDocument(Buffer.from(xml), { xsd: createUblXsdCheck() });
    expect(refusal).toEqual({
      code: 'RA02',
      details: 'not a JP PINT document: JP PINT document with a DOCTYPE is refused',
    });
  });

  it('start-up: no xmllint, or no schemas where configured, stops the AP naming the setting', async () => {
    expect(
      await thrown(createUblXsdCheck({ xmllint: join(work, 'no-such-xmllint') }).selfTest()),
    ).toMatchObject({
      code: 'PEPPOL_VALIDATOR_UNAVAILABLE',
      message: expect.stringMatching(/could not be started.*peppol\.xsd\.enabled: false/),
    });
    expect(await thrown(createUblXsdCheck({ schemaDir: join(work, 'nowhere') }).selfTest())).toMatchObject({
      code: 'PEPPOL_VALIDATOR_UNAVAILABLE',
      message: expect.stringContaining('peppol.xsd.schemaDir'),
    });
  });

  it('a document with errors enough to flood the output bound (3000 lines, each out of order) is still refused, naming its first error', async () => {
    const base = read('jp-pint/invoice-standard-rate.xml');
    const line = base.slice(
      base.indexOf('<cac:InvoiceLine>'),
      base.indexOf('</cac:InvoiceLine>') + '</cac:InvoiceLine>'.length,
    );
    const xml = base.replace(line, line.replace('<cbc:ID>', '<cbc:Note>x</cbc:Note><cbc:ID>').repeat(3000));
    const r = await createUblXsdCheck().validate('Invoice', Buffer.from(xml));
    expect(r.valid).toBe(false);
    expect(r.valid ? [] : r.errors[0]!.message).toMatch(/^element Note: Schemas validity error/);
  });

  it('an AP on the Peppol profile with the XSD check on and no xmllint does not start, before it opens anything, naming the setting', async () => {
    let thrownError: unknown;
    try {
      await createAccessPoint({
        as4: { profile: 'peppol' },
        peppol: { xsd: { xmllint: join(work, 'no-such-xmllint') } },
        pki: { dir: join(work, 'no-pki') },
      });
    } catch (error) {
      thrownError = error;
    }
    expect(isQerdsError(thrownError, 'PEPPOL_VALIDATOR_UNAVAILABLE')).toBe(true);
    expect((thrownError as Error).message).toMatch(
      /peppol\.xsd is on, but xmllint cannot validate .*peppol\.xsd\.xmllint/,
    );
  });

  it('no verdict at a submission (xmllint gone, past its timeout) is PEPPOL_VALIDATOR_FAILED, not a refusal of the document', async () => {
    const doc = Buffer.from(read('jp-pint/invoice-standard-rate.xml'));
    expect(
      await thrown(createUblXsdCheck({ xmllint: join(work, 'no-such-xmllint') }).validate('Invoice', doc)),
    ).toMatchObject({ code: 'PEPPOL_VALIDATOR_FAILED' });
    // 1 ms: xmllint cannot even start and compile the UBL schemas in that time.
    expect(await thrown(createUblXsdCheck({ timeoutMs: 1 }).validate('Invoice', doc))).toMatchObject({
      code: 'PEPPOL_VALIDATOR_FAILED',
      message: expect.stringContaining('ran past its timeout'),
    });
  });
});
