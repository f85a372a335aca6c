import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { evidenceSamples } from '../../test/fixtures/evidence/load-samples.js';
import { buildEvidenceXml } from './build-evidence.js';
import { EVIDENCE_ELEMENT_ORDER, EVIDENCE_GLOBAL_ELEMENTS, EVIDENCE_NS } from './names.js';
import { parseEvidenceDocument, parseEvidenceXml } from './parse-evidence.js';

const samples = evidenceSamples();

function rootChildren(xml: string): { ns: string | null; name: string }[] {
  const root = new DOMParser().parseFromString(xml, 'text/xml').documentElement;
  const out: { ns: string | null; name: string }[] = [];
  for (let n = root.firstChild; n; n = n.nextSibling)
    if (n.nodeType === 1)
      out.push({ ns: (n as Element).namespaceURI ?? null, name: (n as Element).localName });
  return out;
}

describe('EN 319 522-3 evidence XML', () => {
  it('writes the children of Evidence in the order of the standard', () => {
    const xml = buildEvidenceXml(samples.RelayAcceptance);
    const children = rootChildren(xml);
    // The standard's form: global elements in the namespace, local ones (EventTime) in none.
    for (const c of children) expect(c.ns, c.name).toBe(c.name === 'EventTime' ? null : EVIDENCE_NS);
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
      const idx = rootChildren(buildEvidenceXml(sample)).map((c) =>
        (EVIDENCE_ELEMENT_ORDER as readonly string[]).indexOf(c.name),
      );
      expect(idx.every((i, k) => i >= 0 && (k === 0 || i > (idx[k - 1] as number)))).toBe(true);
    }
  });

  it('uses the identifiers of EN 319 522 (namespace, version, event and reason URIs, SAML attributes)', () => {
    const xml = buildEvidenceXml(samples.SubmissionRejection);
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<ev:Evidence /);
    expect(xml).toContain('xmlns:ev="http://uri.etsi.org/19522/v1#"');
    // No default namespace anywhere: it would pull the unqualified local elements into it.
    expect(xml).not.toMatch(/xmlns=/);
    expect(xml).toContain('version="EN319522v1.1.1"');
    expect(xml).toContain('Id="ev-000004"');
    expect(xml).toContain(
      '<ev:ERDSEventId>http://uri.etsi.org/19522/Event/SubmissionRejection</ev:ERDSEventId>',
    );
    expect(xml).toContain(
      '<ev:EventReasons><ev:EventReason><Code>http://uri.etsi.org/19522/EventReason/S_ERDS_PolicyViolation</Code><Details>RA05</Details><Details>payload exceeds 10 MiB</Details></ev:EventReason></ev:EventReasons>',
    );
    expect(xml).toContain('<saml:Attribute Name="http://eidas.europa.eu/attributes/legalperson/LegalName"');
    expect(xml).toContain('xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"');
    expect(xml).toContain('<Identifier IdentifierSchemeName="0188">1234567890123</Identifier>');
    const withParts = buildEvidenceXml(samples.SubmissionAcceptance);
    expect(withParts).toContain(
      '<ev:PartInfo><Identifier>part-1@c2.example</Identifier><ContentType>application/pdf</ContentType><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>XohImNooBHFR0OVvjcYpJ3NgPQ1qq73WKhHvch0VQtg=</ds:DigestValue></ev:PartInfo>',
    );
    expect(withParts).toContain(
      '<AssuranceLevelsDetails><GlobalAssuranceLevel><AssuranceLevel>http://eidas.europa.eu/LoA/substantial</AssuranceLevel></GlobalAssuranceLevel><ev:AuthenticationDetails><AuthenticationTime>2025-03-01T09:29:59.000Z</AuthenticationTime><AuthenticationMethod>http://uri.etsi.org/19522/v1#/AuthenticationMethod/apiKey</AuthenticationMethod></ev:AuthenticationDetails></AssuranceLevelsDetails>',
    );
    const relay = buildEvidenceXml(samples.RelayAcceptance);
    expect(relay).toContain(
      '<ev:Extensions><ev:Extension><qx:PreviousEvidence xmlns:qx="urn:qerds-ap:evidence-extensions:1">ev-000001</qx:PreviousEvidence></ev:Extension></ev:Extensions>',
    );
  });

  it('is well-formed for xmllint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qerds-evidence-'));
    for (const [name, sample] of Object.entries(samples)) {
      const file = join(dir, `${name}.xml`);
      writeFileSync(file, buildEvidenceXml(sample));
      expect(() => execFileSync('xmllint', ['--noout', '--nonet', file], { stdio: 'pipe' })).not.toThrow();
    }
  });

  it.each(Object.keys(samples) as (keyof typeof samples)[])(
    'round-trips %s: parse(build(x)) equals x',
    (name) => {
      const data = samples[name];
      expect(parseEvidenceXml(buildEvidenceXml(data))).toStrictEqual(data);
    },
  );

  it('parses strictly', () => {
    const xml = buildEvidenceXml(samples.SubmissionAcceptance);
    const malformed = (x: string) => () => parseEvidenceXml(x);
    const code = { code: 'EVIDENCE_MALFORMED' };
    expect(
      malformed(
        xml.replace('xmlns:ev="http://uri.etsi.org/19522/v1#"', 'xmlns:ev="http://uri.etsi.org/19522/v2#"'),
      ),
    ).toThrow(expect.objectContaining(code));
    expect(
      malformed(
        '<?xml version="1.0"?><Other xmlns="http://uri.etsi.org/19522/v1#" version="EN319522v1.1.1"/>',
      ),
    ).toThrow(expect.objectContaining(code));
    expect(malformed(xml.replace('version="EN319522v1.1.1"', 'version="EN319522v9"'))).toThrow(
      expect.objectContaining(code),
    );
    // EventTime moved after EvidenceIssuerPolicyID: out of order.
    const eventTime = /<EventTime>[^<]+<\/EventTime>/.exec(xml)?.[0] ?? '';
    const moved = xml
      .replace(eventTime, '')
      .replace('<ev:EvidenceIssuerDetails>', `${eventTime}<ev:EvidenceIssuerDetails>`);
    expect(malformed(moved)).toThrow(/out of order/);
    expect(malformed(xml.replace('<ev:MessageIdentifier>', '<Unknown/><ev:MessageIdentifier>'))).toThrow(
      /unknown element/,
    );
    expect(
      malformed(
        xml.replace(
          'http://uri.etsi.org/19522/Event/SubmissionAcceptance',
          'http://uri.etsi.org/19522/Event/Nope',
        ),
      ),
    ).toThrow(/ERDSEventId/);
    expect(malformed(xml.replace(/<ev:MessageIdentifier>[^<]+<\/ev:MessageIdentifier>/, ''))).toThrow(
      /lacks MessageIdentifier/,
    );
    expect(malformed('<Evidence')).toThrow(expect.objectContaining(code));
  });

  it('reads the form earlier versions wrote (every element in a default namespace) to the same data', () => {
    for (const data of Object.values(samples)) {
      const standard = buildEvidenceXml(data);
      const old = toDefaultNamespaceForm(standard);
      expect(old).toContain('<Evidence xmlns="http://uri.etsi.org/19522/v1#"');
      expect(parseEvidenceDocument(standard)).toStrictEqual({ data, form: 'standard' });
      expect(parseEvidenceDocument(old)).toStrictEqual({ data, form: 'all-qualified' });
      // The same with a prefix on every element instead of a default namespace.
      const prefixed = standard.replace(/<(\/?)(?!\w+:)([A-Za-z]\w*)/g, '<$1ev:$2');
      expect(prefixed).toContain('<ev:EventTime>');
      expect(parseEvidenceDocument(prefixed)).toStrictEqual({ data, form: 'all-qualified' });
    }
  });

  it('refuses a document that mixes the two forms, or qualifies a local element', () => {
    const xml = buildEvidenceXml(samples.SubmissionAcceptance);
    const old = toDefaultNamespaceForm(xml);
    // Standard form, but one local element in the namespace (what a reader of the standard would not find).
    expect(() => parseEvidenceXml(xml.replace(/<Code>([^<]*)<\/Code>/, '<ev:Code>$1</ev:Code>'))).toThrow(
      /EventReason has no Code/,
    );
    expect(() =>
      parseEvidenceXml(xml.replace(/<EventTime>([^<]*)<\/EventTime>/, '<ev:EventTime>$1</ev:EventTime>')),
    ).toThrow(/EventReason has no Code/);
    // Standard form, but a global element without namespace.
    expect(() =>
      parseEvidenceXml(
        xml.replace(
          /<ev:MessageIdentifier>([^<]*)<\/ev:MessageIdentifier>/,
          '<MessageIdentifier>$1</MessageIdentifier>',
        ),
      ),
    ).toThrow(/unknown element \{\}MessageIdentifier/);
    // Old form, but EventTime unqualified (xmlns=""): the form is read as standard and the rest is unknown.
    expect(() => parseEvidenceXml(old.replace('<EventTime>', '<EventTime xmlns="">'))).toThrow(
      /unknown element/,
    );
    // Old form, one local element taken out of the namespace.
    expect(() => parseEvidenceXml(old.replace('<Code>', '<Code xmlns="">'))).toThrow(
      /EventReason has no Code/,
    );
  });

  it('refuses invalid data', () => {
    expect(() =>
      buildEvidenceXml({
        ...samples.ContentHandover,
        parts: [{ partId: 'p', contentType: 'x/y', sha256: 'abc' }],
      }),
    ).toThrow(expect.objectContaining({ code: 'EVIDENCE_INVALID_DATA' }));
  });
});

/**
 * The form earlier qerds-ap versions wrote, from the standard form: every EN 319 522-3 element in a default
 * namespace declared on the root (what the old builder serialized).
 */
function toDefaultNamespaceForm(xml: string): string {
  expect(EVIDENCE_GLOBAL_ELEMENTS.has('Evidence')).toBe(true);
  return xml
    .replace(/<(\/?)ev:/g, '<$1')
    .replace(' xmlns:ev="http://uri.etsi.org/19522/v1#"', '')
    .replace('<Evidence ', '<Evidence xmlns="http://uri.etsi.org/19522/v1#" ');
}
