import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  eventUri,
  evidenceEvents,
  reasonCodes,
  reasonUri,
  type EvidenceData,
  type ReasonCode,
} from '../../src/core/index.js';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import {
  buildEvidenceXml,
  EVENT_REASONS,
  issueEvidence,
  NEGATIVE_EVENTS,
  verifyEvidence,
  xadesSealer,
} from '../../src/evidence/index.js';
import { loadSigningIdentity, loadTrustStore } from '../../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { sharedTestPki } from '../helpers/pki.js';

const SCHEMA = new URL('../../schemas/evidence/en319522-evidence.xsd', import.meta.url).pathname;
const base = evidenceSamples().RelayAcceptance;

/** xmllint --schema over files; returns per-file verdicts from its output. */
function xmllint(files: readonly string[]): { status: number | null; output: string } {
  const r = spawnSync('xmllint', ['--noout', '--schema', SCHEMA, ...files], { encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function writeAll(docs: readonly { name: string; xml: string }[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-evidence-xsd-'));
  return docs.map((d) => {
    const file = join(dir, `${d.name}.xml`);
    writeFileSync(file, d.xml);
    return file;
  });
}

describe('EN 319 522-3 evidence schema (schemas/evidence, checked with xmllint)', () => {
  const issued: { name: string; xml: string; data: EvidenceData }[] = [];

  beforeAll(async () => {
    const pki = sharedTestPki();
    // C3's seal: `base` is C3's RelayAcceptance, and the seal must name the issuer (src/evidence/issuer-check.ts).
    const identity = loadSigningIdentity(pki.ap('c3').sealCert, pki.ap('c3').sealKey);
    const tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
    );
    const sealer = xadesSealer({
      identity,
      tsa,
      clock: { now: () => new Date() },
      idGenerator: sequentialIdGenerator(),
    });
    // Every event of EN 319 522-1 table 1 with every reason code EN 319 522-2 gives it, sealed XAdES-B-T.
    let n = 0;
    for (const event of evidenceEvents) {
      for (const code of EVENT_REASONS[event]) {
        n += 1;
        const data: EvidenceData = {
          ...base,
          id: `ev-${n}`,
          event,
          reason: NEGATIVE_EVENTS.has(event) ? { code, details: `why ${code} happened` } : { code },
          previousEvidenceId: n > 1 ? `ev-${n - 1}` : undefined,
        };
        issued.push({ name: `${event}-${code}`, xml: (await issueEvidence(data, sealer)).xml, data });
      }
    }
  });

  it('every event type with each of its reason codes validates against the XSD, sealed', () => {
    expect(new Set(issued.map((i) => i.data.event))).toEqual(new Set(evidenceEvents));
    expect(evidenceEvents).toHaveLength(19);
    const files = writeAll(issued);
    const r = xmllint(files);
    expect(r.output).not.toMatch(/fails to validate|error/i);
    expect(r.status).toBe(0);
    for (const f of files) expect(r.output).toContain(`${f} validates`);
  });

  it('what we issue also verifies TOTAL-PASSED at B-T and reads back as issued', async () => {
    const trust = loadTrustStore([sharedTestPki().caCert, sharedTestPki().caCrl]);
    for (const i of issued.filter((_, k) => k % 5 === 0)) {
      const report = await verifyEvidence(i.xml, { trust });
      expect(report.indication, i.name).toBe('TOTAL-PASSED');
      expect(report.seal?.level).toBe('B-T');
      expect(report.evidence?.event).toBe(i.data.event);
      expect(report.evidence?.reason?.code).toBe(i.data.reason?.code);
    }
  });

  it('refuses what breaks the structure: order, unknown event, unknown reason, missing component, zone-less time, the wrong form', () => {
    const good = buildEvidenceXml({ ...base, id: 'ev-x' });
    const bad = [
      {
        name: 'order',
        xml: good.replace(/(<ev:EventReasons>.*?<\/ev:EventReasons>)(<EventTime>[^<]*<\/EventTime>)/, '$2$1'),
      },
      {
        name: 'event',
        xml: good.replace(eventUri('RelayAcceptance'), 'http://uri.etsi.org/19522/Event/RelayAccepted'),
      },
      {
        name: 'reason',
        xml: good.replace(reasonUri('RB01'), 'http://uri.etsi.org/19522/EventReason/Relayed'),
      },
      { name: 'missing', xml: good.replace(/<ev:EvidenceIssuerDetails>.*?<\/ev:EvidenceIssuerDetails>/, '') },
      // The form: a local element in the namespace, a global one out of it, a default namespace in scope.
      {
        name: 'qualified-local',
        xml: good.replace(/<EventTime>([^<]*)<\/EventTime>/, '<ev:EventTime>$1</ev:EventTime>'),
      },
      {
        name: 'unqualified-global',
        xml: good.replace(
          /<ev:MessageIdentifier>([^<]*)<\/ev:MessageIdentifier>/,
          '<MessageIdentifier>$1</MessageIdentifier>',
        ),
      },
      {
        name: 'default-namespace',
        xml: good.replace(/<ev:SenderDetails>/, '<ev:SenderDetails xmlns="http://uri.etsi.org/19522/v1#">'),
      },
      { name: 'zone', xml: good.replace(/(<EventTime>[^<]*?)Z</, '$1<') },
      { name: 'version', xml: good.replace('version="EN319522v1.1.1"', 'version="EN319522v9"') },
    ];
    for (const b of bad) expect(b.xml, b.name).not.toBe(good);
    const files = writeAll(bad);
    const r = xmllint(files);
    expect(r.status).not.toBe(0);
    for (const f of files) expect(r.output).toContain(`${f} fails to validate`);
    expect(xmllint(writeAll([{ name: 'good', xml: good }])).status).toBe(0);
  });

  it('the builder refuses a reason from another event and a negative event without reason', () => {
    expect(() => buildEvidenceXml({ ...base, event: 'ContentHandover', reason: { code: 'RA01' } })).toThrow(
      /RA01 does not belong to ContentHandover/,
    );
    expect(() => buildEvidenceXml({ ...base, event: 'RelayFailure', reason: undefined })).toThrow(
      /RelayFailure needs an EventReason/,
    );
  });

  it('the enumerations of the XSD equal the events and reason codes in src/core', () => {
    const xsd = readFileSync(SCHEMA, 'utf8');
    const values = [...xsd.matchAll(/<xs:enumeration value="([^"]+)"/g)].map((m) => m[1]);
    expect(values.filter((v) => v?.includes('/Event/'))).toEqual(evidenceEvents.map(eventUri));
    expect(values.filter((v) => v?.includes('/EventReason/'))).toEqual(
      Object.keys(reasonCodes).map((c) => reasonUri(c as ReasonCode)),
    );
  });
});
