import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvidenceData } from '../../src/core/index.js';
import { buildEvidenceXml, parseEvidenceXml } from '../../src/evidence/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';

const SCHEMA = new URL('../../schemas/evidence/en319522-evidence.xsd', import.meta.url).pathname;
const PLAINTEXT = 'a'.repeat(64);

/**
 * An end-to-end encrypted part: PartInfo carries the ciphertext's digest (the bytes that travel), and
 * Extensions/Extension/qx:PlaintextDigest the digest of the plaintext C2 encrypted, so that C2's
 * SubmissionAcceptance binds both.
 */
function encryptedSample(): EvidenceData {
  const base = evidenceSamples().SubmissionAcceptance;
  const [first, second] = base.parts;
  return {
    ...base,
    previousEvidenceId: 'ev-000000',
    parts: [
      {
        ...first!,
        contentType: 'application/pkcs7-mime; smime-type=authEnveloped-data',
        plaintextSha256: PLAINTEXT,
      },
      second!,
    ],
  };
}

describe('evidence: plaintext digest of an end-to-end encrypted part', () => {
  it('round-trips through EN 319 522-3 XML beside the ciphertext digest and the chain link', () => {
    const data = encryptedSample();
    const xml = buildEvidenceXml(data);
    expect(xml).toContain(`PartId="${data.parts[0]!.partId}"`);
    expect(xml).toContain(Buffer.from(PLAINTEXT, 'hex').toString('base64'));
    const parsed = parseEvidenceXml(xml);
    expect(parsed.parts).toEqual(data.parts);
    expect(parsed.parts[1]).not.toHaveProperty('plaintextSha256');
    expect(parsed.previousEvidenceId).toBe('ev-000000');
  });

  it('validates against the evidence XSD (xmllint)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'qerds-e2e-xsd-')), 'ev.xml');
    writeFileSync(file, buildEvidenceXml({ ...encryptedSample(), previousEvidenceId: undefined }));
    const r = spawnSync('xmllint', ['--noout', '--schema', SCHEMA, file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/validates/);
  });

  it('writes no Extensions when no part is encrypted and there is no chain link', () => {
    const base = evidenceSamples().SubmissionAcceptance;
    expect(buildEvidenceXml({ ...base, previousEvidenceId: undefined })).not.toContain('Extensions');
  });

  it('refuses a plaintext digest that is not SHA-256 hex, or that names a part with no PartInfo', () => {
    const data = encryptedSample();
    expect(() =>
      buildEvidenceXml({ ...data, parts: [{ ...data.parts[0]!, plaintextSha256: 'xyz' }] }),
    ).toThrow(/plaintextSha256/);
    const xml = buildEvidenceXml(data).replace(`PartId="${data.parts[0]!.partId}"`, 'PartId="nope"');
    expect(() => parseEvidenceXml(xml)).toThrow(/PlaintextDigest names part nope/);
  });
});
