import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildUserMessageEnvelope } from '../src/as4/message/envelope-build.js';
import * as oursXmlUtil from '../src/as4/message/xml-util.js';
import { buildReceipt } from '../src/as4/message/signals.js';
import { signEnvelope } from '../src/as4/security/ws-security-sign.js';
import * as oursWss from '../src/as4/security/ws-security-verify.js';
import { sequentialIdGenerator } from '../src/core/ids.js';
import type { EvidenceData } from '../src/core/index.js';
import * as oursEvidence from '../src/evidence/index.js';
import * as oursPki from '../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../src/timestamp/index.js';
import { parseXmlStrict, serializeXml } from '../src/xml/index.js';
import { evidenceSamples } from '../test/fixtures/evidence/load-samples.js';
import { opensslEcSeal } from '../test/helpers/xmlsec.js';
import { sampleMessage } from '../test/interop/as4-helpers.js';

/**
 * Verification CPU of this checkout against another (BENCH_VERIFY_AB_BASE=<checkout>), both loaded in one process
 * and run in alternating batches (BENCH_VERIFY_AB_ROUNDS rounds after a warm-up round), so that a loaded machine
 * weighs on both alike: verifyEvidence of 16 KB B-T evidence sealed by this checkout (RSA-2048 and ECDSA P-256, 50
 * documents a batch), and the AS4 receive-side checks (parseXml + verifyEnvelope of a signed UserMessage, then of
 * its signed NRR receipt against the expected certificate, 100 a batch). Figures are process CPU per operation.
 */
export async function benchVerifyAb(): Promise<void> {
  const baseRoot = process.env.BENCH_VERIFY_AB_BASE;
  if (!baseRoot) {
    console.log('skipped: BENCH_VERIFY_AB_BASE=<another checkout> names the side to compare with');
    return;
  }
  const rounds = Number(process.env.BENCH_VERIFY_AB_ROUNDS ?? 20);
  const load = async <T>(path: string): Promise<T> => (await import(join(resolve(baseRoot), path))) as T;
  const base = {
    evidence: await load<typeof oursEvidence>('src/evidence/index.ts'),
    pki: await load<typeof oursPki>('src/pki/index.ts'),
    wss: await load<typeof oursWss>('src/as4/security/ws-security-verify.ts'),
    xml: await load<typeof oursXmlUtil>('src/as4/message/xml-util.ts'),
  };
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-verify-ab-'));
  try {
    const { layout } = await oursPki.initDevPki({ dir: join(dir, 'pki') });
    const trust = oursPki.loadTrustStore([layout.caCert, layout.caCrl]);
    const baseTrust = base.pki.loadTrustStore([layout.caCert, layout.caCrl]);
    console.log(`settings: base ${baseRoot}, ${rounds} rounds per side, alternating, one process`);

    const tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: oursPki.loadSigningIdentity(layout.tsaCert, layout.tsaKey) }),
    );
    const sample = evidenceSamples().SubmissionAcceptance;
    const ec = opensslEcSeal(layout, 'Bench EC e-seal', sample.issuer.id);
    const parts = [...(sample.parts ?? [])];
    const doc: EvidenceData = { ...sample, parts };
    for (let i = parts.length; oursEvidence.buildEvidenceXml(doc).length < 16 * 1024 && i < 10_000; i++)
      parts.push({ ...parts[i % 2]!, partId: `part-${i + 1}@c2.example` });
    for (const [name, identity] of [
      ['RSA-2048', oursPki.loadSigningIdentity(layout.ap('c2').sealCert, layout.ap('c2').sealKey)],
      ['ECDSA P-256', oursPki.loadSigningIdentity(ec.certFile, ec.keyFile)],
    ] as const) {
      const sealer = oursEvidence.xadesSealer({
        identity,
        tsa,
        clock: { now: () => new Date() },
        idGenerator: sequentialIdGenerator(),
      });
      const sealed: string[] = [];
      for (let i = 0; i < 50; i++)
        sealed.push((await oursEvidence.issueEvidence({ ...doc, id: `ev-${i}` }, sealer)).xml);
      const check = (verify: typeof oursEvidence.verifyEvidence, t: oursPki.TrustStore) => async () => {
        for (const xml of sealed)
          if ((await verify(xml, { trust: t })).indication !== 'TOTAL-PASSED') throw new Error('not PASSED');
      };
      const r = await alternate(rounds, sealed.length, {
        base: check(base.evidence.verifyEvidence, baseTrust),
        this: check(oursEvidence.verifyEvidence, trust),
      });
      console.log(`  verifyEvidence B-T, ${name}: ${line(r)}`);
    }

    const c2 = oursPki.loadSigningIdentity(layout.ap('c2').sealCert, layout.ap('c2').sealKey);
    const c3 = oursPki.loadSigningIdentity(layout.ap('c3').sealCert, layout.ap('c3').sealKey);
    const attachments = [
      { contentId: 'p@qerds', contentType: 'application/octet-stream', body: Buffer.from('payload') },
    ];
    const envelope = buildUserMessageEnvelope(sampleMessage('bench@qerds', attachments));
    signEnvelope(envelope, attachments, c2);
    const userMessage = serializeXml(envelope);
    const received = parseXmlStrict(userMessage, 'BAD_REQUEST');
    const { references } = oursWss.verifyEnvelope(received, attachments, { trust });
    const receipt = serializeXml(buildReceipt(received, references, c3));
    const batch = 100;
    const receive = (wss: typeof oursWss, xml: typeof oursXmlUtil, t: oursPki.TrustStore) => async () => {
      for (let i = 0; i < batch; i++) {
        const m = wss.verifyEnvelope(xml.parseXml(userMessage), attachments, { trust: t });
        const rc = wss.verifyEnvelope(xml.parseXml(receipt), [], {
          trust: t,
          expectedCertificate: c3.certificate,
        });
        if (!m.valid || !rc.valid) throw new Error('not valid');
      }
    };
    const r = await alternate(rounds, batch, {
      base: receive(base.wss, base.xml, baseTrust),
      this: receive(oursWss, oursXmlUtil, trust),
    });
    console.log(`  AS4 parse + verifyEnvelope of a UserMessage and its receipt: ${line(r)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU µs per operation of each side, over `rounds` alternating batches (a first, unmeasured round warms up). */
async function alternate(
  rounds: number,
  perBatch: number,
  sides: { base: () => Promise<void>; this: () => Promise<void> },
): Promise<{ base: number; this: number }> {
  const cpu = { base: 0, this: 0 };
  for (let r = 0; r <= rounds; r++) {
    for (const side of r % 2 ? (['base', 'this'] as const) : (['this', 'base'] as const)) {
      const c0 = process.cpuUsage();
      await sides[side]();
      const c = process.cpuUsage(c0);
      if (r > 0) cpu[side] += c.user + c.system;
    }
  }
  return { base: cpu.base / (rounds * perBatch), this: cpu.this / (rounds * perBatch) };
}

function line(r: { base: number; this: number }): string {
  return `base ${r.base.toFixed(0)} µs, this ${r.this.toFixed(0)} µs CPU per operation; this / base ${(r.this / r.base).toFixed(3)}`;
}
