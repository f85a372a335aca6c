import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { buildUserMessageEnvelope } from '../src/as4/message/envelope-build.js';
import { buildReceipt } from '../src/as4/message/signals.js';
import { signEnvelope } from '../src/as4/security/ws-security-sign.js';
import { verifyEnvelope } from '../src/as4/security/ws-security-verify.js';
import { sequentialIdGenerator } from '../src/core/ids.js';
import type { EvidenceData } from '../src/core/index.js';
import { buildEvidenceXml, issueEvidence, xadesSealer } from '../src/evidence/index.js';
import { initDevPki, loadSigningIdentity, loadTrustStore } from '../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../src/timestamp/index.js';
import { parseXmlStrict, serializeXml } from '../src/xml/index.js';
import { evidenceSamples } from '../test/fixtures/evidence/load-samples.js';
import { sampleMessage } from '../test/interop/as4-helpers.js';

type Parse = (xml: string) => unknown;

/**
 * Parse CPU per document: parseXmlStrict (src/xml/well-formed.ts) against a baseline, in one process, in
 * alternating batches (BENCH_XML_ROUNDS rounds of BENCH_XML_BATCH parses of each document per side, after a
 * warm-up round), on what the access point parses: a sealed 16 KB evidence (B-T, as BENCH=evidence builds it), a
 * signed AS4 UserMessage envelope and its signed NRR receipt. The baseline is xmldom's DOMParser run as
 * parseXmlStrict ran it before (every warning fatal; without its limits pre-scan nor its linear end-tag look-up), or, with BENCH_XML_BASE=<another
 * checkout>, that checkout's parseXmlStrict (e.g. the commit before well-formed.ts, whose xmldom had its end-tag
 * look-up made linear). Figures are process CPU (user + system) per parse, and new / base.
 */
export async function benchXmlParse(): Promise<void> {
  const rounds = Number(process.env.BENCH_XML_ROUNDS ?? 10);
  const batch = Number(process.env.BENCH_XML_BATCH ?? 200);
  const docs = await documents();
  const baseRoot = process.env.BENCH_XML_BASE;
  let base: Parse = xmldomStrict;
  if (baseRoot) {
    const other = (await import(join(baseRoot, 'src/xml/parse.ts'))) as typeof import('../src/xml/parse.js');
    base = (xml) => other.parseXmlStrict(xml, 'BAD_REQUEST');
  }
  const baseName = baseRoot ? `parseXmlStrict of ${baseRoot}` : 'xmldom DOMParser (strict)';
  const ours: Parse = (xml) => parseXmlStrict(xml, 'BAD_REQUEST');
  console.log(
    `settings: ${rounds} rounds × ${batch} parses per document and side, alternating; base = ${baseName}`,
  );
  for (const [name, xml] of Object.entries(docs)) {
    const sides = { base: 0, ours: 0 };
    for (let round = 0; round <= rounds; round++) {
      for (const [side, parse] of [
        ['base', base],
        ['ours', ours],
      ] as const) {
        const cpu0 = process.cpuUsage();
        for (let i = 0; i < batch; i++) parse(xml);
        const cpu = process.cpuUsage(cpu0);
        if (round > 0) sides[side] += cpu.user + cpu.system; // round 0 warms up
      }
    }
    const per = (us: number) => us / (rounds * batch);
    console.log(
      `  ${name.padEnd(28)} ${String(xml.length).padStart(6)} chars: base ${per(sides.base).toFixed(1)} µs, ours ${per(sides.ours).toFixed(1)} µs CPU per parse → ours / base = ${(sides.ours / sides.base).toFixed(2)}`,
    );
  }
}

function xmldomStrict(xml: string): Document {
  const fail = (m: string) => {
    throw new Error(m);
  };
  return new DOMParser({ errorHandler: { warning: fail, error: fail, fatalError: fail } }).parseFromString(
    xml,
    'application/xml',
  );
}

/** The three documents, built with a fresh dev PKI. */
async function documents(): Promise<Record<string, string>> {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-xml-'));
  try {
    const { layout } = await initDevPki({ dir: join(dir, 'pki') });
    const seal = loadSigningIdentity(layout.ap('c2').sealCert, layout.ap('c2').sealKey);
    const tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(layout.tsaCert, layout.tsaKey) }),
    );
    // A 16 KB evidence, as BENCH=evidence makes it: more message parts listed.
    const sample = evidenceSamples().SubmissionAcceptance;
    const parts = [...(sample.parts ?? [])];
    const data: EvidenceData = { ...sample, parts };
    for (let i = parts.length; buildEvidenceXml(data).length < 16 * 1024 && i < 10_000; i++)
      parts.push({ ...parts[i % 2]!, partId: `part-${i + 1}@c2.example` });
    const evidence = (
      await issueEvidence(
        data,
        xadesSealer({
          identity: seal,
          tsa,
          clock: { now: () => new Date() },
          idGenerator: sequentialIdGenerator(),
        }),
      )
    ).xml;

    const attachments = [
      { contentId: 'p@qerds', contentType: 'application/octet-stream', body: Buffer.from('payload') },
    ];
    const envelope = buildUserMessageEnvelope(sampleMessage('bench@qerds', attachments));
    signEnvelope(envelope, attachments, seal);
    const userMessage = serializeXml(envelope);
    const trust = loadTrustStore([layout.caCert]);
    const received = parseXmlStrict(userMessage, 'BAD_REQUEST');
    const { references } = verifyEnvelope(received, attachments, { trust });
    const c3 = loadSigningIdentity(layout.ap('c3').sealCert, layout.ap('c3').sealKey);
    const receipt = serializeXml(buildReceipt(received, references, c3));
    return {
      'evidence (sealed, B-T)': evidence,
      'AS4 UserMessage (signed)': userMessage,
      'AS4 receipt (NRR)': receipt,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
