import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  eventUri,
  evidenceEvents,
  formatParticipantId,
  reasonUri,
  type EvidenceData,
} from '../../src/core/index.js';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import {
  EVIDENCE_GLOBAL_ELEMENTS,
  issueEvidence,
  parseEvidenceDocument,
  verifyEvidence,
  xadesSealer,
} from '../../src/evidence/index.js';
import { loadSigningIdentity, loadTrustStore } from '../../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { xmllintEvidence, xmlsecVerify } from '../helpers/xmlsec.js';
import { oneOfEachEvent } from './one-of-each-event.js';

const NS: Record<string, string> = {
  ev: 'http://uri.etsi.org/19522/v1#',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  qx: 'urn:qerds-ap:evidence-extensions:1',
};
const OLD_FORM = new URL('../fixtures/evidence/old-form/RelayFailure.xml', import.meta.url).pathname;
const SCHEMA = new URL('../../schemas/evidence/en319522-evidence.xsd', import.meta.url).pathname;

/**
 * The "XML form" table of the EN 319 522-3 reference card (shared EVIDENCE.md), written out here on its own
 * so that the test does not read our code's list: the globals, in the namespace.
 */
const CARD_GLOBALS = [
  'Evidence',
  'EvidenceIdentifier',
  'ERDSEventId',
  'EventReasons',
  'EventReason',
  'EvidenceIssuerPolicyID',
  'EvidenceIssuerDetails',
  'Identity',
  'SenderDetails',
  'RecipientDetails',
  'AuthenticationDetails',
  'SubmissionTime',
  'MessageIdentifier',
  'UserContentInfo',
  'PartsInfo',
  'PartInfo',
  'ExternalERDSDetails',
  'Extensions',
  'Extension',
];
/** …and the locals, with no namespace. */
const CARD_LOCALS = [
  'Code',
  'Details',
  'EventTime',
  'PolicyID',
  'Identifier',
  'AssuranceLevelsDetails',
  'GlobalAssuranceLevel',
  'AssuranceLevel',
  'AuthenticationTime',
  'AuthenticationMethod',
  'AppLayerIdentifier',
  'ComposingParts',
  'ContentType',
  'EvidenceRefersToRecipient',
];

/**
 * An XPath over prefixed names turned into one that names every namespace explicitly: `ev:X` must be
 * {19522}X, a bare `X` must have no namespace at all. So `/ev:Evidence/EventTime` finds EventTime only when it
 * is unqualified, as a reader of the standard looks for it (xmllint --xpath has no way to bind prefixes).
 */
function strictXPath(path: string): string {
  // Quoted literals ('LegalName', 'part-1@c2.example') are left alone.
  return path
    .split(/('[^']*')/)
    .map((piece, k) =>
      k % 2 === 1
        ? piece
        : piece.replace(
            /(@)?(?:([a-z]+):)?([A-Za-z][A-Za-z0-9]*)(?![A-Za-z0-9(:])/g,
            (all, attr: string | undefined, prefix: string | undefined, local: string) => {
              if (attr) return all;
              const ns = prefix === undefined ? '' : NS[prefix];
              if (ns === undefined) throw new Error(`unknown prefix ${prefix}`);
              return `*[local-name()='${local}' and namespace-uri()='${ns}']`;
            },
          ),
    )
    .join('');
}

function xpath(file: string, expression: string): string {
  const r = spawnSync('xmllint', ['--xpath', expression, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`xmllint --xpath ${expression}: ${r.stderr}`);
  return r.stdout.trim();
}
const SEPARATOR = '~|~'; // in no value written

/** The string values of `paths` in `file`, read by one xmllint call. */
function readAll(file: string, paths: readonly string[]): string[] {
  const expression = `concat(${paths.map((p) => `string(${strictXPath(p)})`).join(`, '${SEPARATOR}', `)}, '')`;
  return xpath(file, expression).split(SEPARATOR);
}

describe('evidence in the EN 319 522-3 form (global elements qualified, local ones not): every event type', () => {
  const issued: { name: string; data: EvidenceData; xml: string; file: string }[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'qerds-evidence-form-'));
  let pki: ReturnType<typeof sharedTestPki>;

  beforeAll(async () => {
    pki = sharedTestPki();
    const identity = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    const tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
    );
    const sealer = xadesSealer({
      identity,
      tsa,
      clock: { now: () => new Date() },
      idGenerator: sequentialIdGenerator(),
    });
    for (const { name, data } of oneOfEachEvent()) {
      const xml = (await issueEvidence(data, sealer)).xml;
      const file = join(dir, `${name}.xml`);
      writeFileSync(file, xml);
      issued.push({ name, data, xml, file });
    }
  }, 120_000);

  it('all 19 events validate against the schema (elementFormDefault="unqualified")', () => {
    expect(issued.map((i) => i.name)).toEqual([...evidenceEvents]);
    expect(issued).toHaveLength(19);
    const r = spawnSync('xmllint', ['--noout', '--schema', SCHEMA, ...issued.map((i) => i.file)], {
      encoding: 'utf8',
    });
    expect(r.stderr).not.toMatch(/fails to validate|error/i);
    expect(r.status).toBe(0);
    for (const i of issued) expect(r.stderr).toContain(`${i.file} validates`);
  });

  it('a reader of the standard finds every component where the standard puts it (xmllint --xpath, namespaces explicit)', () => {
    const at = (d: Date) => d.toISOString();
    for (const { name, data, file } of issued) {
      const expected: [string, string][] = [];
      const expectRead = (path: string, value: string) => void expected.push([path, value]);
      expectRead('/ev:Evidence/ev:EvidenceIdentifier', data.id);
      expectRead('/ev:Evidence/ev:ERDSEventId', eventUri(data.event));
      expectRead('/ev:Evidence/EventTime', at(data.eventTime));
      expectRead('/ev:Evidence/ev:EventReasons/ev:EventReason/Code', reasonUri(data.reason!.code));
      expectRead('/ev:Evidence/ev:EventReasons/ev:EventReason/Details[1]', data.reason!.code);
      if (data.reason?.details)
        expectRead('/ev:Evidence/ev:EventReasons/ev:EventReason/Details[2]', data.reason.details);
      expectRead(
        "/ev:Evidence/ev:EvidenceIssuerDetails/ev:Identity/saml:Attribute[@FriendlyName='LegalName']/saml:AttributeValue",
        data.issuer.name,
      );
      expectRead('/ev:Evidence/ev:SenderDetails/Identifier', data.sender.id.value);
      expectRead('/ev:Evidence/ev:SenderDetails/Identifier/@IdentifierSchemeName', data.sender.id.scheme);
      expectRead(
        "/ev:Evidence/ev:SenderDetails/ev:Identity/saml:Attribute[@FriendlyName='LegalPersonIdentifier']/saml:AttributeValue",
        formatParticipantId(data.sender.id),
      );
      expectRead('/ev:Evidence/ev:RecipientDetails/Identifier', data.recipient.id.value);
      const sid = data.sender.identification!;
      expectRead(
        '/ev:Evidence/ev:SenderDetails/AssuranceLevelsDetails/GlobalAssuranceLevel/AssuranceLevel',
        sid.assuranceLevel,
      );
      expectRead(
        '/ev:Evidence/ev:SenderDetails/AssuranceLevelsDetails/ev:AuthenticationDetails/AuthenticationTime',
        at(sid.authenticatedAt),
      );
      expectRead(
        '/ev:Evidence/ev:SenderDetails/AssuranceLevelsDetails/ev:AuthenticationDetails/AuthenticationMethod',
        sid.method,
      );
      const rid = data.recipient.identification;
      if (rid?.aal !== undefined) {
        // Not in the card's table: local by the rule (AuthenticationDetsAndAssuranceLevel, IdentityProofAssuranceLevel).
        expectRead(
          '/ev:Evidence/ev:RecipientDetails/AssuranceLevelsDetails/AuthenticationDetsAndAssuranceLevel/ev:AuthenticationDetails/AuthenticationMethod',
          rid.method,
        );
        expectRead(
          '/ev:Evidence/ev:RecipientDetails/AssuranceLevelsDetails/IdentityProofAssuranceLevel/AssuranceLevel',
          'http://eidas.europa.eu/LoA/high',
        );
      }
      if (data.issuerPolicyIds.length > 0)
        expectRead('/ev:Evidence/ev:EvidenceIssuerPolicyID/PolicyID[1]', data.issuerPolicyIds[0]!);
      expectRead('/ev:Evidence/ev:SubmissionTime', at(data.submissionTime!));
      expectRead('/ev:Evidence/ev:MessageIdentifier', data.messageId);
      data.parts.forEach((p, k) => {
        expectRead(`/ev:Evidence/ev:UserContentInfo/ev:PartsInfo/ev:PartInfo[${k + 1}]/Identifier`, p.partId);
        expectRead(
          `/ev:Evidence/ev:UserContentInfo/ev:PartsInfo/ev:PartInfo[${k + 1}]/ContentType`,
          p.contentType,
        );
        expectRead(
          `/ev:Evidence/ev:UserContentInfo/ev:PartsInfo/ev:PartInfo[${k + 1}]/ds:DigestValue`,
          Buffer.from(p.sha256, 'hex').toString('base64'),
        );
      });
      if (data.externalErds)
        expectRead(
          "/ev:Evidence/ev:ExternalERDSDetails/ev:Identity/saml:Attribute[@FriendlyName='LegalName']/saml:AttributeValue",
          data.externalErds.name,
        );
      if (data.previousEvidenceId)
        expectRead('/ev:Evidence/ev:Extensions/ev:Extension/qx:PreviousEvidence', data.previousEvidenceId);
      for (const p of data.parts) {
        if (p.plaintextSha256)
          expectRead(
            `/ev:Evidence/ev:Extensions/ev:Extension/qx:PlaintextDigest[@PartId='${p.partId}']`,
            Buffer.from(p.plaintextSha256, 'hex').toString('base64'),
          );
        if (p.sealedOnBehalf)
          expectRead(
            `/ev:Evidence/ev:Extensions/ev:Extension/qx:SealedOnBehalf[@PartId='${p.partId}']/@Format`,
            p.sealedOnBehalf.format,
          );
      }
      const values = readAll(
        file,
        expected.map(([path]) => path),
      );
      expect(values.filter((v) => v === '')).toEqual([]);
      expect(values).toHaveLength(expected.length);
      expected.forEach(([path, value], k) => expect(values[k], `${name}: ${path}`).toBe(value));
    }
    // The strict reading sees the form: in the form earlier versions wrote, EventTime is not where a reader of the standard looks.
    expect(readAll(OLD_FORM, ['/ev:Evidence/EventTime', '/ev:Evidence/ev:EventTime'])).toEqual([
      '',
      '2026-12-07T04:00:04.123Z',
    ]);
    // The set covers every optional structure the builder writes.
    const all = issued.map((i) => i.data);
    expect(all.some((d) => d.recipient.identification?.aal !== undefined)).toBe(true);
    expect(all.some((d) => d.externalErds)).toBe(true);
    expect(all.some((d) => d.parts.some((p) => p.plaintextSha256))).toBe(true);
    expect(all.some((d) => d.parts.some((p) => p.sealedOnBehalf?.format === 'CAdES'))).toBe(true);
  });

  it('no element of the evidence namespace is local, no unqualified element is global, no default namespace is in scope', () => {
    const list = (names: string[]) => `'|${names.join('|')}|'`;
    // Unqualified elements are only the card's locals and the two the card is silent on (local by the rule).
    const locals = [...CARD_LOCALS, 'AuthenticationDetsAndAssuranceLevel', 'IdentityProofAssuranceLevel'];
    const counts = [
      // In the 19522 namespace, but not one of the card's globals (e.g. an ev:EventTime).
      `count(//*[namespace-uri()='${NS.ev}' and not(contains(${list(CARD_GLOBALS)}, concat('|', local-name(), '|')))])`,
      // Unqualified, but a global.
      `count(//*[namespace-uri()='' and contains(${list(CARD_GLOBALS)}, concat('|', local-name(), '|'))])`,
      `count(//*[namespace-uri()='' and not(contains(${list(locals)}, concat('|', local-name(), '|')))])`,
      // A default namespace declared anywhere.
      "count(//*/namespace::*[name()=''])",
    ];
    const expression = `concat(${counts.join(`, '${SEPARATOR}', `)})`;
    for (const { name, file } of issued)
      expect(xpath(file, expression).split(SEPARATOR), name).toEqual(['0', '0', '0', '0']);
    // The same reading of the form earlier versions wrote finds every local element in the namespace.
    const old = xpath(OLD_FORM, expression).split(SEPARATOR).map(Number);
    expect(old[0]).toBeGreaterThan(10);
    expect(old[3]).toBeGreaterThan(0);
  });

  it('the seal verifies with xmlsec1 and with ours (TOTAL-PASSED at B-T); what we read back is what was issued, in the standard form', async () => {
    const trust = loadTrustStore([pki.caCert, pki.caCrl]);
    for (const { name, data, xml } of issued) {
      const x = xmlsecVerify(xml, pki.caCert);
      expect(x.ok, `${name}: ${x.output}`).toBe(true);
      const report = await verifyEvidence(xml, { trust });
      expect(report.indication, name).toBe('TOTAL-PASSED');
      expect(report.seal?.level).toBe('B-T');
      expect(report.evidence).toStrictEqual(data);
      expect(parseEvidenceDocument(report.seal!.signedDocument!).form).toBe('standard');
      expect(xmllintEvidence(xml).ok).toBe(true);
    }
  });

  it('the schema declares as global exactly the card’s globals, as does the writer’s table', () => {
    const xsd = readFileSync(SCHEMA, 'utf8');
    expect(xsd).toContain('elementFormDefault="unqualified"');
    // Top-level declarations are indented by two spaces in the file; local ones deeper.
    const globals = [...xsd.matchAll(/^ {2}<xs:element name="([^"]+)"/gm)].map((m) => m[1]);
    expect(new Set(globals)).toEqual(new Set(CARD_GLOBALS));
    expect(new Set(EVIDENCE_GLOBAL_ELEMENTS)).toEqual(new Set(CARD_GLOBALS));
    for (const local of CARD_LOCALS) expect(globals).not.toContain(local);
  });
});
