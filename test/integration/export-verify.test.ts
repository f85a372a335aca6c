import { mkdtempSync, readFileSync, readdirSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { exportMessageEvidence, readExportDir, type ExportManifest } from '../../src/cli/export-command.js';
import { verifyAny, verifyEvidenceChain } from '../../src/evidence/index.js';
import { loadTrustStore } from '../../src/pki/index.js';
import { buildRemMessage } from '../../src/smtp/index.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';
import { qerdsInProcess, qerdsLaunched } from '../helpers/cli.js';
import { devTestPki } from '../helpers/pki.js';

// Every answer of the REST API in this file is checked against schemas/openapi.yaml.
useOpenApiContract();

/**
 * The archive export and the one verification verb: a message goes C2 → C3 → handover; C2's evidence is
 * exported; the export is verified offline with only its own files (trust/ as the anchors), through the
 * library, the CLI and POST /api/v1/verify (which takes a REM .eml too); one changed byte in one file makes the whole chain INVALID.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 'qerds-export-'));
const pkiDir = join(work, 'pki');
const outDir = join(work, 'export');
let net: TwoAccessPoints;
let manifest: ExportManifest;
let messageId: string;

async function postVerify(
  body: Buffer | string,
  query = '',
): Promise<{ status: number; json: { kind: string; valid: boolean; report: Record<string, unknown> } }> {
  const response = await fetch(`${net.c2.url}/api/v1/verify${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SENDER.key}`, 'content-type': 'application/octet-stream' },
    body: typeof body === 'string' ? body : new Uint8Array(body),
  });
  return { status: response.status, json: (await response.json()) as never };
}

describe('qerds export + verify of the evidence chain', () => {
  beforeAll(async () => {
    await devTestPki(pkiDir);
    net = await startTwoAccessPoints({ outDir: join(work, 'aps'), pkiDir });
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id, subject: 'Invoice INV-2026-000123' }));
    form.append(
      'payload',
      new Blob([readFileSync(join(root, 'examples/ubl-invoice-jp.xml'))], { type: 'application/xml' }),
      'invoice.xml',
    );
    messageId = String(
      (await api(net.c2.url, SENDER.key, '/api/v1/messages', { method: 'POST', body: form })).id,
    );
    const deadline = Date.now() + 60_000;
    let handedOver = false;
    while (Date.now() < deadline) {
      if (!handedOver) {
        const inbox = await api<Array<{ id: string; state: string; parts: Array<{ partId: string }> }>>(
          net.c3.url,
          RECIPIENT.key,
          '/api/v1/inbox',
        );
        const item = inbox.find((m) => m.state === 'consigned');
        if (item) {
          const r = await fetch(`${net.c3.url}/api/v1/inbox/${item.id}/parts/${item.parts[0]!.partId}`, {
            headers: { authorization: `Bearer ${RECIPIENT.key}` },
          });
          await r.arrayBuffer();
          handedOver = r.ok;
        }
      }
      const chain = await api<Array<{ event: string }>>(
        net.c2.url,
        SENDER.key,
        `/api/v1/messages/${messageId}/evidence`,
      );
      if (chain.some((e) => e.event === 'ContentHandover')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    manifest = await exportMessageEvidence({
      store: accessPointInternals(net.c2).context.store,
      messageId,
      outDir,
      trust: accessPointInternals(net.c2).trust,
    });
  }, 120_000);
  afterAll(() => net?.stop());

  const exportTrust = () => loadTrustStore([join(outDir, 'trust')]);

  it('writes every evidence, the trust files, a manifest with digests and a README', () => {
    expect(manifest.evidence.map((e) => e.event)).toEqual(
      expect.arrayContaining([
        'SubmissionAcceptance',
        'RelayAcceptance',
        'ContentConsignment',
        'ContentHandover',
      ]),
    );
    expect(readdirSync(join(outDir, 'evidence'))).toHaveLength(manifest.evidence.length);
    expect(manifest.trust.some((t) => t.file.endsWith('.crt.pem'))).toBe(true);
    expect(manifest.trust.some((t) => /\.crl(\.pem)?$/.test(t.file))).toBe(true);
    expect(readFileSync(join(outDir, 'README.txt'), 'utf8')).toContain('qerds verify . --trust trust/');
  });

  it('verifies offline with only the exported files: every seal and every link', async () => {
    const report = await verifyEvidenceChain(readExportDir(outDir), { trust: exportTrust() });
    expect(report.findings).toEqual([]);
    expect(report.members.every((m) => m.report.indication === 'TOTAL-PASSED')).toBe(true);
    expect(report.valid).toBe(true);
    const bundle = await verifyAny(readFileSync(join(outDir, 'bundle.json')), { trust: exportTrust() });
    expect(bundle.kind).toBe('evidence-chain');
    expect(bundle.valid).toBe(true);
  });

  it('one changed byte in one evidence file: the chain is INVALID (digest and seal)', async () => {
    const copy = join(work, 'tampered');
    cpSync(outDir, copy, { recursive: true });
    const file = join(copy, manifest.evidence[1]!.file);
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        /<(\w+:)?EventTime>(\d)/,
        (_m, p: string | undefined, d: string) => `<${p ?? ''}EventTime>${d === '1' ? '2' : '1'}`,
      ),
    );
    const report = await verifyEvidenceChain(readExportDir(copy), { trust: exportTrust() });
    expect(report.valid).toBe(false);
    expect(report.findings.map((f) => f.code)).toEqual(
      expect.arrayContaining(['CHAIN_DIGEST_MISMATCH', 'CHAIN_MEMBER_INVALID']),
    );
    // In this process: the one real launch of `qerds verify` is in test/cli/verify-command.test.ts.
    const cli = await qerdsInProcess(['verify', copy, '--trust', join(outDir, 'trust')]);
    expect(cli.status).toBe(1);
    expect(cli.stdout).toMatch(/^INVALID: evidence chain/);
  }, 60_000);

  it('a chain missing a linked evidence or with a duplicate is INVALID; order of the list is free; one without submission is partial but valid', async () => {
    const bundle = readExportDir(outDir);
    const report = await verifyEvidenceChain(
      { ...bundle, evidence: bundle.evidence.filter((e) => e.event !== 'RelayAcceptance') },
      { trust: exportTrust() },
    );
    expect(report.valid).toBe(false);
    expect(report.findings.map((f) => f.code)).toContain('CHAIN_LINK_MISSING');
    // The list order is not the chain's: links and sealed event times are.
    const reordered = await verifyEvidenceChain(
      { ...bundle, evidence: [...bundle.evidence].reverse() },
      { trust: exportTrust() },
    );
    expect(reordered.findings).toEqual([]);
    // The same evidence twice, under another declared id: refused (a padded chain is not one history).
    const twice = await verifyEvidenceChain(
      { ...bundle, evidence: [...bundle.evidence, { ...bundle.evidence[0]!, id: 'other' }] },
      { trust: exportTrust() },
    );
    expect(twice.valid).toBe(false);
    expect(twice.findings.map((f) => f.code)).toEqual(
      expect.arrayContaining(['CHAIN_ID_MISMATCH', 'CHAIN_DUPLICATE_ID']),
    );
    const noSubmission = await verifyEvidenceChain(
      { ...bundle, evidence: bundle.evidence.filter((e) => e.event !== 'SubmissionAcceptance') },
      { trust: exportTrust() },
    );
    expect(noSubmission.valid).toBe(true);
    expect(noSubmission.findings.map((f) => f.code)).toEqual(['CHAIN_NO_SUBMISSION']);
  });

  it('qerds verify <export dir> exits 0 and says VALID', async () => {
    const { status, stdout, stderr } = await qerdsInProcess([
      'verify',
      outDir,
      '--trust',
      join(outDir, 'trust'),
    ]);
    expect(status, stderr).toBe(0);
    expect(stdout).toMatch(/^VALID: evidence chain of \d+ evidence for message /);
  }, 60_000);

  it('the CLI on the AP’s configured store: qerds export writes the same chain; qerds archive renew finds nothing due today', async () => {
    const config = join(work, 'c2.yaml');
    writeFileSync(
      config,
      `store:\n  sqliteFile: ${join(work, 'aps/c2/qerds.sqlite')}\n  blobDir: ${join(work, 'aps/c2/blobs')}\npki:\n  dir: ${pkiDir}\n  apName: c2\n`,
    );
    const cliOut = join(work, 'cli-export');
    // The one real launch of `qerds export` and of `qerds archive renew` (bin/qerds.js in its own process).
    const exported = qerdsLaunched(['export', messageId, '--out', cliOut, '--config', config]);
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stdout).toContain(`exported ${manifest.evidence.length} evidence`);
    const cliManifest = JSON.parse(readFileSync(join(cliOut, 'manifest.json'), 'utf8')) as ExportManifest;
    expect(cliManifest.evidence.map((e) => [e.id, e.sha256])).toEqual(
      manifest.evidence.map((e) => [e.id, e.sha256]),
    );
    const renew = qerdsLaunched(['archive', 'renew', '--config', config, '--json']);
    expect(renew.status, renew.stderr).toBe(0);
    const result = JSON.parse(renew.stdout) as { scanned: number; renewed: unknown[]; failed: unknown[] };
    expect(result).toMatchObject({ renewed: [], failed: [] });
    expect(result.scanned).toBeGreaterThanOrEqual(manifest.evidence.length);
  }, 90_000);

  it('POST /api/v1/verify takes any proof as the raw body and answers the verdict with 200', async () => {
    const evidenceXml = readFileSync(join(outDir, manifest.evidence[0]!.file));
    const one = await postVerify(evidenceXml);
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({
      kind: 'evidence-xml',
      valid: true,
      report: { indication: 'TOTAL-PASSED' },
    });

    const chain = await postVerify(readFileSync(join(outDir, 'bundle.json')));
    expect(chain.json).toMatchObject({ kind: 'evidence-chain', valid: true });

    const tampered = await postVerify(
      evidenceXml.toString('utf8').replace('SubmissionAcceptance', 'SubmissionRejection'),
    );
    expect(tampered.status).toBe(200);
    expect(tampered.json.valid).toBe(false);

    // A REM message (.eml) C2 would mail, carrying this evidence, signed with C2's e-seal.
    const rem = buildRemMessage({
      event: manifest.evidence[0]!.event,
      evidenceXml: evidenceXml.toString('utf8'),
      subject: 'Invoice',
      from: { address: 'rem@c2.example' },
      to: [{ address: 'c1@example.org' }],
      signer: accessPointInternals(net.c2).identity,
    });
    const remResult = await postVerify(rem.raw);
    expect(remResult.json).toMatchObject({ kind: 'rem-message', valid: true, report: { verdict: 'VALID' } });

    const junk = await postVerify(Buffer.from('hello'));
    expect(junk.status).toBe(400);
    const badAt = await postVerify(evidenceXml, '?at=yesterday');
    expect(badAt.status).toBe(400);
  });
});
