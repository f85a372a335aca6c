import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkJpPintDocument } from '../../src/access-point/jp-pint-validation.js';
import { isQerdsError } from '../../src/core/errors.js';
import {
  createJpPintSchematron,
  parseSvrlReports,
  validateJpPint,
  type JpPintSchematron,
} from '../../src/peppol/index.js';

/**
 * The official JP PINT 1.1.2 rules (OpenPeppol's Schematron compiled to XSLT 2.0, stored in
 * test/fixtures/peppol/jp-pint-schematron with their source) run by Saxon-HE on our samples, through the product's
 * runner (src/peppol/jp-pint-schematron.ts). Real java and Saxon: CI installs them (.ci/run); a machine without
 * them fails here, saying what is missing, rather than skipping.
 */
const SAXON = '/usr/share/java/Saxon-HE.jar';
const fixtures = fileURLToPath(new URL('../fixtures/peppol/', import.meta.url));
const rules = (set: string) =>
  ['PINT-UBL-validation-preprocessed.xslt', 'PINT-jurisdiction-aligned-rules.xslt'].map((f) =>
    join(fixtures, 'jp-pint-schematron', set, f),
  );
const BILLING = rules('billing-1.1.2');
const SELF_BILLING = rules('selfbilling-1.1.2');
const sample = (name: string) => readFileSync(join(fixtures, 'jp-pint', name));
const work = mkdtempSync(join(tmpdir(), 'qerds-jp-pint-schematron-'));

function requireJavaAndSaxon(): void {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.status !== 0)
    throw new Error(
      'java is needed by this test (Debian: apt-get install default-jre-headless; .ci/run does it)',
    );
  if (!existsSync(SAXON))
    throw new Error(
      `${SAXON} is needed by this test (Debian: apt-get install libsaxonhe-java; .ci/run does it)`,
    );
}

let official: JpPintSchematron;
beforeAll(() => {
  requireJavaAndSaxon();
  official = createJpPintSchematron({
    stylesheets: { billing: BILLING, selfbilling: SELF_BILLING },
    saxonJar: SAXON,
  });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const thrown = async (p: Promise<unknown>) => {
  try {
    await p;
    return undefined;
  } catch (error) {
    return isQerdsError(error) ? { code: error.code, message: error.message } : { code: String(error) };
  }
};

describe('the official JP PINT 1.1.2 Schematron on our samples (Saxon-HE)', () => {
  it('starts: java runs Saxon and every stylesheet compiles', async () => {
    await expect(official.selfTest()).resolves.toBeUndefined();
  }, 120_000);

  it.each([
    ['invoice-standard-rate.xml', 'billing'],
    ['invoice-reduced-rate.xml', 'billing'],
    ['invoice-mixed-rates.xml', 'billing'],
    ['credit-note.xml', 'billing'],
    ['invoice-usd-with-jpy-tax.xml', 'billing'],
    ['selfbilling-invoice.xml', 'selfbilling'],
  ] as const)(
    '%s passes the %s rule set without a single finding, as it passes ours',
    async (name, spec) => {
      const result = await official.validate(spec, sample(name));
      expect(result.findings).toEqual([]);
      expect(validateJpPint(sample(name).toString('utf8'))).toEqual([]);
    },
    120_000,
  );

  it('the billing rule set refuses the self-billing sample on its CustomizationID: each specification needs its own set', async () => {
    const result = await official.validate('billing', sample('selfbilling-invoice.xml'));
    expect(result.findings.map((f) => f.rule)).toContain('aligned-ibrp-001-jp');
  }, 120_000);

  /**
   * What the official rules find in each broken sample (named after the rule of OUR code it breaks), all fatal.
   * Where the ids differ, see test/fixtures/peppol/README.md "Our rules and the official ones".
   */
  const OFFICIAL_FINDINGS: Record<string, string[]> = {
    'aligned-ibr-jp-01': ['aligned-ibr-jp-01'],
    'aligned-ibr-jp-03': ['aligned-ibr-jp-03'],
    'aligned-ibr-jp-04': ['aligned-ibr-jp-04'],
    // The official rule is shadowed for document-currency subtotals (an earlier rule of its pattern matches them).
    'aligned-ibr-jp-06': [],
    'aligned-ibrp-001-jp': ['aligned-ibrp-001-jp'],
    'aligned-ibrp-002-jp': ['aligned-ibrp-002-jp'],
    'aligned-ibrp-051-jp': ['aligned-ibrp-051-jp', 'ibr-co-14'],
    'aligned-ibrp-052': ['aligned-ibrp-052'],
    'aligned-ibrp-053-jp': ['aligned-ibrp-053-jp'],
    'aligned-ibrp-cl-01-jp': ['aligned-ibrp-cl-01-jp'],
    'aligned-ibrp-cl-02-jp': ['aligned-ibrp-cl-02-jp', 'ibr-cl-01'],
    'ibr-053': ['ibr-053', 'ibr-084'],
    'ibr-co-10': ['ibr-co-10', 'ibr-co-13'],
    'ibr-co-13': ['ibr-co-13', 'ibr-co-15'],
    'ibr-co-15': ['ibr-co-15', 'ibr-co-16'],
    'ibr-co-16': ['ibr-co-16'],
    'aligned-ibrp-e-01': ['aligned-ibrp-e-01'],
    'ibr-126': ['ibr-126'],
    'qerds-jp-jpy-integer': [],
    'qerds-jp-registration-number-check-digit': [],
    'qerds-jp-registration-number-corporate': [],
    'qerds-jp-tax-per-rate': [],
    // JP PINT does not check a breakdown's taxable amount against its lines; the tax total no longer adds up.
    'qerds-jp-taxable-per-rate': ['ibr-co-14'],
    // No rule of PINT 1.1.2 requires a due date or payment terms (EN 16931 BR-CO-25 is not in it).
    'qerds-payment-due-date-or-terms': [],
  };

  it('every broken sample gets the official findings listed above (one Saxon run per stylesheet over the directory)', () => {
    const broken = join(fixtures, 'jp-pint', 'broken');
    const files = readdirSync(broken).filter((f) => f.endsWith('.xml'));
    expect(files.map((f) => f.replace(/\.xml$/, '')).sort()).toEqual(Object.keys(OFFICIAL_FINDINGS).sort());
    // A sample named after an official id is refused by that official rule (our id is the official one's), except the
    // shadowed aligned-ibr-jp-06; qerds-… ids are ours.
    for (const [rule, official] of Object.entries(OFFICIAL_FINDINGS))
      if (!rule.startsWith('qerds-') && rule !== 'aligned-ibr-jp-06') expect(official, rule).toContain(rule);
    const found = new Map<string, string[]>(files.map((f) => [f, []]));
    BILLING.forEach((xslt, i) => {
      const out = join(work, `broken-${i}`);
      mkdirSync(out);
      const r = spawnSync(
        'java',
        ['-cp', SAXON, 'net.sf.saxon.Transform', `-s:${broken}`, `-o:${out}`, `-xsl:${xslt}`],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      for (const f of files) {
        const findings = parseSvrlReports(readFileSync(join(out, f), 'utf8'));
        expect(findings.every((x) => x.severity === 'fatal')).toBe(true);
        found.get(f)!.push(...findings.map((x) => x.rule));
      }
    });
    for (const [f, ids] of found)
      expect([...new Set(ids)].sort(), f).toEqual(OFFICIAL_FINDINGS[f.replace(/\.xml$/, '')]!.sort());
  }, 300_000);

  it('a document our code rules accept and the official rules refuse (a unit of measure outside UNECE Rec 20) is refused, naming the official rule', async () => {
    const xml = sample('invoice-standard-rate.xml')
      .toString('utf8')
      .replace(/unitCode="H87"/g, 'unitCode="QQQ"');
    expect(validateJpPint(xml).filter((f) => f.severity === 'fatal')).toEqual([]);
    const refusal = await checkJpPintDocument(Buffer.from(xml), { schematron: official });
    expect(refusal).toMatchObject({ code: 'RA02' });
    expect(refusal!.details).toMatch(/^JP PINT rule ibr-cl-23 \(official Schematron\): \[ibr-cl-23\]/);
    expect(refusal!.details).toContain('/Invoice[1]/InvoiceLine[1]/InvoicedQuantity[1]');
  }, 120_000);

  it('warnings of an accepted document reach onWarnings; a refused one is not reported as warnings', async () => {
    const seen: string[][] = [];
    const refusal = await checkJpPintDocument(sample('broken/qerds-jp-registration-number-check-digit.xml'), {
      schematron: official,
      onWarnings: (w) => seen.push(w.map((x) => x.rule)),
    });
    expect(refusal).toBeUndefined();
    expect(seen).toEqual([['qerds-jp-registration-number-check-digit']]);
  }, 120_000);
});

describe('the Schematron runner when it cannot run', () => {
  it('start-up: a missing Saxon jar, a missing stylesheet or a java that does not start each stop the AP naming the setting', async () => {
    const noJar = createJpPintSchematron({
      stylesheets: { billing: BILLING },
      saxonJar: join(work, 'none.jar'),
    });
    expect(await thrown(noJar.selfTest())).toMatchObject({
      code: 'PEPPOL_VALIDATOR_UNAVAILABLE',
      message: expect.stringContaining('saxonJar'),
    });
    const noSheet = createJpPintSchematron({
      stylesheets: { selfbilling: [join(work, 'missing.xslt')] },
      saxonJar: SAXON,
    });
    expect(await thrown(noSheet.selfTest())).toMatchObject({
      code: 'PEPPOL_VALIDATOR_UNAVAILABLE',
      message: expect.stringContaining('schematron.selfBilling'),
    });
    const noJava = createJpPintSchematron({
      stylesheets: { billing: BILLING },
      saxonJar: SAXON,
      java: join(work, 'no-such-java'),
    });
    expect(await thrown(noJava.selfTest())).toMatchObject({
      code: 'PEPPOL_VALIDATOR_UNAVAILABLE',
      message: expect.stringContaining('could not be started'),
    });
  });

  it('at a submission, no verdict (java gone, a stylesheet that is not one) is PEPPOL_VALIDATOR_FAILED, not a refusal of the document', async () => {
    const noJava = createJpPintSchematron({
      stylesheets: { billing: BILLING },
      saxonJar: SAXON,
      java: join(work, 'no-such-java'),
    });
    expect(await thrown(noJava.validate('billing', sample('invoice-standard-rate.xml')))).toMatchObject({
      code: 'PEPPOL_VALIDATOR_FAILED',
    });
    const notXslt = createJpPintSchematron({
      stylesheets: { billing: [join(fixtures, 'jp-pint', 'invoice-standard-rate.xml')] },
      saxonJar: SAXON,
    });
    expect(
      await thrown(checkJpPintDocument(sample('invoice-standard-rate.xml'), { schematron: notXslt })),
    ).toMatchObject({
      code: 'PEPPOL_VALIDATOR_FAILED',
      message: expect.stringContaining('exited with status'),
    });
  }, 120_000);

  it('reads SVRL: flags fatal and error refuse, warning and information warn, an assert without flag refuses', () => {
    const svrl = `<r xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
      <svrl:failed-assert id="a" flag="fatal" location="/*:Invoice[namespace-uri()='urn:x'][1]"><svrl:text>[a]-A</svrl:text></svrl:failed-assert>
      <svrl:failed-assert id="b" flag="warning"><svrl:text> [b]-B
        split </svrl:text></svrl:failed-assert>
      <svrl:failed-assert id="c"><svrl:text>C</svrl:text></svrl:failed-assert>
      <svrl:successful-report id="d" flag="information"><svrl:text>D</svrl:text></svrl:successful-report>
      <svrl:successful-report id="e" flag="error"><svrl:text>E</svrl:text></svrl:successful-report>
    </r>`;
    expect(parseSvrlReports(svrl)).toEqual([
      { rule: 'a', severity: 'fatal', message: '[a]-A', location: '/Invoice[1]' },
      { rule: 'b', severity: 'warning', message: '[b]-B split' },
      { rule: 'c', severity: 'fatal', message: 'C' },
      { rule: 'd', severity: 'warning', message: 'D' },
      { rule: 'e', severity: 'fatal', message: 'E' },
    ]);
  });
});
