import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEPPOL_SEATS, runDemo } from '../../src/harness/demo.js';
import { devTrustListXml } from '../../src/trust-list/index.js';
import { qerdsInProcess, qerdsLaunched } from '../helpers/cli.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * `qerds peppol-report`: after a real Peppol exchange (`runDemo` with the Peppol profile: C2 and C3 on the Peppol AS4
 * profile, a JP PINT invoice C1 → C4), each AP's monthly TSR and EUSR read from its own store, checked with xmllint
 * against the OpenPeppol reporting XSDs kept under test/fixtures/peppol/reporting/ (see the README there).
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const xsd = (name: string) => join(root, 'test/fixtures/peppol/reporting', name);
const TSR_XSD = xsd('peppol-transaction-statistics-reporting-1.0.1.xsd');
const EUSR_XSD = xsd('peppol-end-user-statistics-reporting-1.1.xsd');

const work = mkdtempSync(join(tmpdir(), 'qerds-peppol-report-'));
const out = join(work, 'out');
const lines: string[] = [];
let invalid = -1;
let month: string;

/** A configuration file for the store of `name` as the demo left it (the CLI reads nothing else of the AP). */
function configOf(name: 'c2' | 'c3'): string {
  const file = join(work, `${name}.yaml`);
  // JSON is YAML.
  writeFileSync(
    file,
    JSON.stringify({
      store: { sqliteFile: join(out, name, 'qerds.sqlite'), blobDir: join(out, name, 'blobs') },
      pki: { dir: join(out, 'peppol-pki'), apName: name },
    }),
  );
  return file;
}

function xmllint(file: string, schema: string): { ok: boolean; output: string } {
  const r = spawnSync('xmllint', ['--noout', '--schema', schema, file], { encoding: 'utf8' });
  return { ok: r.status === 0, output: r.stdout + r.stderr };
}

const text = (xml: string, re: RegExp) => re.exec(xml)?.[1];

beforeAll(async () => {
  const pkiDir = join(work, 'pki');
  await devTestPki(pkiDir, { trustList: devTrustListXml });
  invalid = await runDemo({
    outDir: out,
    pkiDir,
    invoice: join(root, 'examples/peppol/jp-pint-invoice.xml'),
    timeoutMs: 120_000,
    print: (l) => lines.push(l),
    profile: 'peppol',
  });
  // The month of the exchange (a demo run straddling the turn of a month, UTC, would count it in the next one).
  month = new Date().toISOString().slice(0, 7);
}, 240_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('qerds peppol-report after a Peppol exchange', () => {
  it('C2: a TSR with one outgoing exchange to C3 (seat id, JP PINT document type, billing process), XSD-valid', async () => {
    expect(invalid, lines.join('\n')).toBe(0);
    const file = join(work, 'c2-tsr.xml');
    const r = await qerdsInProcess([
      'peppol-report',
      '--type',
      'tsr',
      '--period',
      month,
      '--out',
      file,
      '--config',
      configOf('c2'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    const xml = readFileSync(file, 'utf8');
    expect(xmllint(file, TSR_XSD)).toMatchObject({ ok: true });
    expect(text(xml, /<ReporterID schemeID="CertSubjectCN">([^<]+)</)).toBe(PEPPOL_SEATS.c2);
    expect(text(xml, /<Total><Incoming>(\d+)<\/Incoming><Outgoing>(\d+)</)).toBe('0');
    expect(text(xml, /<Total><Incoming>\d+<\/Incoming><Outgoing>(\d+)</)).toBe('1');
    expect(xml).toContain(`<Key metaSchemeID="SP" schemeID="CertSubjectCN">${PEPPOL_SEATS.c3}</Key>`);
    expect(xml).toContain(
      '<Key metaSchemeID="DT" schemeID="peppol-doctype-wildcard">urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:peppol:pint:billing-1@jp-1::2.1</Key>',
    );
    expect(xml).toContain('<Key metaSchemeID="PR" schemeID="cenbii-procid-ubl">urn:peppol:bis:billing</Key>');
    expect(xml).toContain('<Key metaSchemeID="TP" schemeID="Peppol">peppol-transport-as4-v2_0</Key>');
    // No per-country subtotal for outgoing exchanges (C2 never learns C4's country).
    expect(xml).not.toContain('PerSP-DT-PR-CC');
  });

  it('C3: a TSR with the incoming exchange by country, and an EUSR counting the buyer as receiving end user, both XSD-valid', async () => {
    const tsr = await qerdsInProcess([
      'peppol-report',
      '--type',
      'tsr',
      '--period',
      month,
      '--config',
      configOf('c3'),
    ]);
    expect(tsr.status, tsr.stderr).toBe(0);
    const tsrFile = join(work, 'c3-tsr.xml');
    writeFileSync(tsrFile, tsr.stdout);
    expect(xmllint(tsrFile, TSR_XSD)).toMatchObject({ ok: true });
    expect(text(tsr.stdout, /<Total><Incoming>(\d+)</)).toBe('1');
    expect(tsr.stdout).toContain(`<Key metaSchemeID="SP" schemeID="CertSubjectCN">${PEPPOL_SEATS.c2}</Key>`);
    expect(tsr.stdout).toContain('<Key metaSchemeID="CC" schemeID="SenderCountry">JP</Key>');
    expect(tsr.stdout).toContain('<Key metaSchemeID="CC" schemeID="ReceiverCountry">JP</Key>');

    const eusr = await qerdsInProcess([
      'peppol-report',
      '--type',
      'eusr',
      '--period',
      month,
      '--config',
      configOf('c3'),
    ]);
    expect(eusr.status, eusr.stderr).toBe(0);
    const eusrFile = join(work, 'c3-eusr.xml');
    writeFileSync(eusrFile, eusr.stdout);
    expect(xmllint(eusrFile, EUSR_XSD)).toMatchObject({ ok: true });
    expect(eusr.stdout).toContain(
      '<FullSet><SendingEndUsers>0</SendingEndUsers><ReceivingEndUsers>1</ReceivingEndUsers><SendingOrReceivingEndUsers>1</SendingOrReceivingEndUsers></FullSet>',
    );
    expect(eusr.stdout).toContain('<Key metaSchemeID="CC" schemeID="EndUserCountry">JP</Key>');
  });

  it('a month without exchanges gives zero counts; a bad period or type is refused', async () => {
    const empty = await qerdsInProcess([
      'peppol-report',
      '--type',
      'tsr',
      '--period',
      '2020-02',
      '--config',
      configOf('c2'),
    ]);
    expect(empty.status, empty.stderr).toBe(0);
    expect(empty.stdout).toContain('<StartDate>2020-02-01</StartDate><EndDate>2020-02-29</EndDate>');
    expect(empty.stdout).toContain('<Total><Incoming>0</Incoming><Outgoing>0</Outgoing></Total>');
    const badPeriod = await qerdsInProcess([
      'peppol-report',
      '--type',
      'tsr',
      '--period',
      '2020-13',
      '--config',
      configOf('c2'),
    ]);
    expect(badPeriod.status).not.toBe(0);
    expect(badPeriod.stderr).toContain('--period must be YYYY-MM');
    const badType = await qerdsInProcess([
      'peppol-report',
      '--type',
      'xyz',
      '--period',
      month,
      '--config',
      configOf('c2'),
    ]);
    expect(badType.status).not.toBe(0);
    expect(badType.stderr).toContain('--type must be tsr or eusr');
  });

  it('bin/qerds.js peppol-report (one real launch): C2 EUSR counts the seller as sending end user, XSD-valid', () => {
    const file = join(work, 'c2-eusr.xml');
    const r = qerdsLaunched([
      'peppol-report',
      '--type',
      'eusr',
      '--period',
      month,
      '--out',
      file,
      '--config',
      configOf('c2'),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain(`eusr report for ${month} written to ${file}`);
    const xml = readFileSync(file, 'utf8');
    expect(xmllint(file, EUSR_XSD)).toMatchObject({ ok: true });
    expect(xml).toContain(
      '<FullSet><SendingEndUsers>1</SendingEndUsers><ReceivingEndUsers>0</ReceivingEndUsers><SendingOrReceivingEndUsers>1</SendingOrReceivingEndUsers></FullSet>',
    );
  });
});
