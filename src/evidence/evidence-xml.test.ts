import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { evidenceSamples } from '../../test/fixtures/evidence/load-samples.js';
import { buildEvidenceXml } from './build-evidence.js';
import { EVIDENCE_ELEMENT_ORDER, EVIDENCE_NS } from './names.js';
import { parseEvidenceXml } from './parse-evidence.js';

const samples = evidenceSamples();

function rootChildren(xml: string): { ns: string | null; name: string }[] {
  const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement;
  const out: { ns: string | null; name: string }[] = [];
  for (let n = root.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push({ ns: (n as Element).namespaceURI, name: (n as Element).localName });
  return out;
}

describe('EN 319 522-3 evidence XML', () => {
  it('writes the children of Evidence in the order of the standard', () => {
    const xml = buildEvidenceXml(samples.RelayAcceptance);
    const children = rootChildren(xml);
    expect(children.every((c) => c.ns === EVIDENCE_NS)).toBe(true);
    expect(children.map((c) => c.name)).toEqual([
      'EvidenceIdentifier',
      'ERDSEventId',
      'EventReasons',
      'EventTime',
      'EvidenceIssuerPolicyID',
      'EvidenceIssuerDetails',
      'SenderDetails',
      'RecipientDetails',
      'SubmissionTime',
      'MessageIdentifier',
      'UserContentInfo',
      'ExternalERDSDetails',
      'Extensions',
    ]);
    for (const sample of Object.values(samples)) {
      const idx = rootChildren(buildEvidenceXml(sample)).map((c) => (EVIDENCE_ELEMENT_ORDER as readonly string[]).indexOf(c.name));
      expect(idx.every((i, k) => i >= 0 && (k === 0 || i > (idx[k - 1] as number)))).toBe(true);
    }
  });

  it('uses the identifiers of EN 319 522 (namespace, version, event and reason URIs, SAML attributes)', () => {
    const xml = buildEvidenceXml(samples.SubmissionRejection);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<Evidence /);
    expect(xml).toContain('xmlns="http://uri.etsi.org/19522/v1#"');
    expect(xml).toContain('version="EN319522v1.1.1"');
    expect(xml).toContain('Id="ev-000004"');
    expect(xml).toContain('<ERDSEventId>http://uri.etsi.org/19522/Event/SubmissionRejection</ERDSEventId>');
    expect(xml).toContain(
      '<EventReasons><EventReason><Code>http://uri.etsi.org/19522/EventReason/S_ERDS_PolicyViolation</Code><Details>RA05</Details><Details>payload exceeds 10 MiB</Details></EventReason></EventReasons>',
    );
    expect(xml).toContain('<saml:Attribute Name="http://eidas.europa.eu/attributes/legalperson/LegalName"');
    expect(xml).toContain('xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"');
    expect(xml).toContain('<Identifier IdentifierSchemeName="0188">1234567890123</Identifier>');
    const withParts = buildEvidenceXml(samples.SubmissionAcceptance);
    expect(withParts).toContain(
      '<PartInfo><Identifier>part-1@c2.example</Identifier><ContentType>application/pdf</ContentType><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>XohImNooBHFR0OVvjcYpJ3NgPQ1qq73WKhHvch0VQtg=</ds:DigestValue></PartInfo>',
    );
    expect(withParts).toContain(
      '<AssuranceLevelsDetails><GlobalAssuranceLevel><AssuranceLevel>http://eidas.europa.eu/LoA/substantial</AssuranceLevel></GlobalAssuranceLevel><AuthenticationDetails><AuthenticationTime>2025-03-01T09:29:59.000Z</AuthenticationTime><AuthenticationMethod>http://uri.etsi.org/19522/v1#/AuthenticationMethod/apiKey</AuthenticationMethod></AuthenticationDetails></AssuranceLevelsDetails>',
    );
    const relay = buildEvidenceXml(samples.RelayAcceptance);
    expect(relay).toContain('<Extensions><Extension><qx:PreviousEvidence xmlns:qx="urn:qerds-ap:evidence-extensions:1">ev-000001</qx:PreviousEvidence></Extension></Extensions>');
  });

  it('is well-formed for xmllint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-evidence-'));
    for (const [name, sample] of Object.entries(samples)) {
      const file = join(dir, `${name}.xml`);
      writeFileSync(file, buildEvidenceXml(sample));
      expect(() => execFileSync('xmllint', ['--noout', '--nonet', file], { stdio: 'pipe' })).not.toThrow();
    }
  });

  it.each(Object.keys(samples) as (keyof typeof samples)[])('round-trips %s: parse(build(x)) equals x', (name) => {
    const data = samples[name];
    expect(parseEvidenceXml(buildEvidenceXml(data))).toStrictEqual(data);
  });

  it('parses strictly', () => {
    const xml = buildEvidenceXml(samples.SubmissionAcceptance);
    const malformed = (x: string) => () => parseEvidenceXml(x);
    const code = { code: 'EVIDENCE_MALFORMED' };
    expect(malformed(xml.replace('xmlns="http://uri.etsi.org/19522/v1#"', 'xmlns="http://uri.etsi.org/19522/v2#"'))).toThrow(
      expect.objectContaining(code),
    );
    expect(malformed('<?xml version="1.0"?><Other xmlns="http://uri.etsi.org/19522/v1#" version="EN319522v1.1.1"/>')).toThrow(
      expect.objectContaining(code),
    );
    expect(malformed(xml.replace('version="EN319522v1.1.1"', 'version="EN319522v9"'))).toThrow(expect.objectContaining(code));
    // EventTime moved after EvidenceIssuerPolicyID: out of order.
    const eventTime = /<EventTime>[^<]+<\/EventTime>/.exec(xml)?.[0] ?? '';
    const moved = xml.replace(eventTime, '').replace('<EvidenceIssuerDetails>', `${eventTime}<EvidenceIssuerDetails>`);
    expect(malformed(moved)).toThrow(/out of order/);
    expect(malformed(xml.replace('<MessageIdentifier>', '<Unknown/><MessageIdentifier>'))).toThrow(/unknown element/);
    expect(malformed(xml.replace('http://uri.etsi.org/19522/Event/SubmissionAcceptance', 'http://uri.etsi.org/19522/Event/Nope'))).toThrow(/ERDSEventId/);
    expect(malformed(xml.replace(/<MessageIdentifier>[^<]+<\/MessageIdentifier>/, ''))).toThrow(/lacks MessageIdentifier/);
    expect(malformed('<Evidence')).toThrow(expect.objectContaining(code));
  });

  it('refuses invalid data', () => {
    expect(() => buildEvidenceXml({ ...samples.ContentHandover, parts: [{ partId: 'p', contentType: 'x/y', sha256: 'abc' }] })).toThrow(
      expect.objectContaining({ code: 'EVIDENCE_INVALID_DATA' }),
    );
  });
});
