import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sequentialIdGenerator } from '../../src/core/index.js';
import { issueEvidence, xadesSealer } from '../../src/evidence/index.js';
import { loadSigningIdentity } from '../../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { qerdsInProcess } from '../helpers/cli.js';
import { sharedTestPki } from '../helpers/pki.js';

/**
 * `qerds verify` in plain words for a person: with --lang (or on a terminal) the summary comes first — the
 * verdict, the event in words, the parties, the time — then the technical findings; piped without --lang
 * the technical report stays alone, as scripts read it. A ContentHandover sealed (B-T) by the shared test PKI's
 * C3 seal, the issuer it names, verified with the CA and its CRL.
 */
const pki = sharedTestPki();
let evidenceFile: string;
// In this process (the one real launch of `qerds verify` is in verify-command.test.ts); the test process's
// stdout is a pipe, as a script's is.
const verify = (...extra: string[]) =>
  qerdsInProcess(['verify', evidenceFile, '--trust', pki.caCert, '--trust', pki.caCrl, ...extra], {
    env: { LANG: 'C' },
  });

beforeAll(async () => {
  const identity = loadSigningIdentity(pki.ap('c3').sealCert, pki.ap('c3').sealKey);
  const tsa = createLocalTsaClient(
    createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
  );
  const { xml } = await issueEvidence(
    evidenceSamples().ContentHandover,
    xadesSealer({ identity, tsa, clock: { now: () => new Date() }, idGenerator: sequentialIdGenerator() }),
  );
  evidenceFile = join(mkdtempSync(join(tmpdir(), 'qerds-verify-plain-')), 'ContentHandover.xml');
  writeFileSync(evidenceFile, xml);
});

describe('qerds verify: the plain-language summary', () => {
  it('--lang en: verdict and event in words first, then the technical findings', async () => {
    const r = await verify('--lang', 'en');
    expect(r.status, r.stderr).toBe(0);
    const [summary, technical] = r.stdout.split('--- technical findings ---');
    expect(summary!.split('\n')[0]).toBe('VALID: This proof is genuine and unchanged.');
    expect(summary).toContain(
      'What happened: The recipient took the document (downloaded it) (RE01: handed over to the recipient)',
    );
    expect(summary).toContain('Sender: 0188:1234567890123');
    expect(summary).toContain('Issued by: Example ERDS C3 K.K. (urn:qerds-ap:ap:c3)');
    expect(summary).toMatch(/Time confirmed by the timestamp authority: .+UTC\)/);
    expect(technical!.trimStart().split('\n')[0]).toBe('VALID');
  });

  it('--lang ja: the same in Japanese', async () => {
    const r = await verify('--lang', 'ja');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('有効: この証明は本物で、変更されていません。');
    expect(r.stdout).toContain('出来事: 受信者が文書を受け取りました（ダウンロードしました）');
    expect(r.stdout).toContain('--- 技術的な結果 ---');
  });

  it('piped without --lang: the technical report alone; an unknown language is no verdict (exit 2)', async () => {
    const piped = await verify();
    expect(piped.status, piped.stderr).toBe(0);
    expect(piped.stdout.split('\n')[0]).toBe('VALID');
    expect(piped.stdout).not.toContain('technical findings');
    const wrong = await verify('--lang', 'xx');
    expect(wrong.status).toBe(2);
    expect(wrong.stderr + wrong.stdout).toMatch(/--lang: xx is not one of en, ja/);
  });
});
