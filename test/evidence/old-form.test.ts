import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { evidenceEvents, type EvidenceData } from '../../src/core/index.js';
import { parseEvidenceDocument, verifyEvidence } from '../../src/evidence/index.js';
import { loadTrustStore } from '../../src/pki/index.js';
import { xmllintEvidence } from '../helpers/xmlsec.js';

const DIR = new URL('../fixtures/evidence/old-form/', import.meta.url).pathname;
const DATE_KEYS = new Set(['eventTime', 'submissionTime', 'authenticatedAt']);
const issued: Record<string, EvidenceData> = JSON.parse(
  readFileSync(`${DIR}data.json`, 'utf8'),
  (key, value: unknown) => (DATE_KEYS.has(key) && typeof value === 'string' ? new Date(value) : value),
);
const verifyAt = new Date(
  (JSON.parse(readFileSync(`${DIR}meta.json`, 'utf8')) as { verifyAt: string }).verifyAt,
);
const files = readdirSync(DIR).filter((f) => f.endsWith('.xml'));

// Evidence is archived for at least 10 years: what earlier qerds-ap versions sealed (every element in a default
// namespace) must keep verifying and reading back after the writer moved to the standard's form.
describe('archived evidence in the form earlier versions wrote (test/fixtures/evidence/old-form)', () => {
  it('has one sealed evidence per event type', () => {
    expect(files.map((f) => f.replace('.xml', '')).sort()).toEqual([...evidenceEvents].sort());
  });

  // What the files alone cannot settle, and nothing else: the fixture PKI's CRL was not kept (B-T carries no
  // revocation data: the seal's and the TSA's certificate statuses are unknown, TRY_LATER), and its seal certificate names no
  // organizationIdentifier to bind the issuer to (src/evidence/issuer-check.ts). Seal, digests, timestamp: intact.
  it('each verifies at B-T with only the revocation status and the issuer binding open (INDETERMINATE TRY_LATER), and reads back as issued', async () => {
    const trust = loadTrustStore([`${DIR}ca.crt.pem`]);
    for (const f of files) {
      const xml = readFileSync(`${DIR}${f}`, 'utf8');
      const report = await verifyEvidence(xml, { trust, at: verifyAt });
      expect(
        report.findings
          .filter((x) => x.severity === 'error')
          .map((x) => x.code)
          .sort(),
        f,
      ).toEqual(['EVIDENCE_ISSUER_UNBOUND', 'SIGNER_REVOCATION_UNKNOWN', 'TSA_REVOCATION_UNKNOWN']);
      expect(report).toMatchObject({
        indication: 'INDETERMINATE',
        subIndication: 'TRY_LATER',
        seal: { valid: true, level: 'B-T' },
      });
      expect(report.evidence).toStrictEqual(issued[f.replace('.xml', '')]);
      expect(parseEvidenceDocument(report.seal!.signedDocument!).form).toBe('all-qualified');
    }
  });

  it('xmlsec1 verifies their seals too; the standard-form schema refuses them (that form is why the writer changed)', () => {
    // At the fixed time, not now: the fixture PKI's leaf certificates expire (test/helpers/xmlsec.ts checks at now).
    const time = verifyAt.toISOString().slice(0, 19).replace('T', ' ');
    for (const f of files) {
      const r = spawnSync(
        'xmlsec1',
        [
          '--verify',
          '--trusted-pem',
          `${DIR}ca.crt.pem`,
          '--verification-time',
          time,
          '--id-attr:Id',
          'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
          `${DIR}${f}`,
        ],
        { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } },
      );
      expect(r.status, `${f}: ${r.stderr}`).toBe(0);
    }
    const schema = xmllintEvidence(readFileSync(`${DIR}RelayFailure.xml`, 'utf8'));
    expect(schema.ok).toBe(false);
    expect(schema.output).toMatch(
      /Element '\{http:\/\/uri\.etsi\.org\/19522\/v1#\}Code': This element is not expected/,
    );
  });

  it('one changed character in an old-form evidence is still TOTAL-FAILED HASH_FAILURE', async () => {
    const xml = readFileSync(`${DIR}ContentHandover.xml`, 'utf8');
    const tampered = xml.replace('<MessageIdentifier>msg-3f2a', '<MessageIdentifier>msg-3f2b');
    expect(tampered).not.toBe(xml);
    const report = await verifyEvidence(tampered, {
      trust: loadTrustStore([`${DIR}ca.crt.pem`]),
      at: verifyAt,
    });
    expect(report).toMatchObject({ indication: 'TOTAL-FAILED', subIndication: 'HASH_FAILURE' });
  });
});
