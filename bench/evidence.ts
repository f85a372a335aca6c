import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sequentialIdGenerator } from '../src/core/ids.js';
import type { EvidenceData } from '../src/core/index.js';
import { buildEvidenceXml, issueEvidence, verifyEvidence, xadesSealer } from '../src/evidence/index.js';
import { initDevPki, loadSigningIdentity, loadTrustStore, type SigningIdentity } from '../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../src/timestamp/index.js';
import { evidenceSamples } from '../test/fixtures/evidence/load-samples.js';
import { opensslEcSeal } from '../test/helpers/xmlsec.js';

const SIGNED_PROPERTIES_ID = 'http://uri.etsi.org/01903/v1.3.2#:SignedProperties';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const ECDSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256';

/**
 * Sealing and verifying evidence, RSA-2048 and ECDSA P-256, beside xmlsec1 (libxmlsec1, OpenSSL) on the
 * same documents in the same run (a 16 KB evidence by default, BENCH_EVIDENCE_KB):
 * - ours: sealXml B-T (SignedProperties + a SignatureTimeStamp from the embedded TSA, RSA-2048) and
 *   B-B; verifyEvidence of the B-T evidence (signature, path with CRL, timestamp token, evidence parse);
 * - xmlsec1 --sign: a plain enveloped XMLDSig (no XAdES properties, no timestamp) over the same evidence
 *   document; xmlsec1 --verify: our B-T evidence (its XMLDSig layer only: xmlsec1 does not check the
 *   timestamp). xmlsec1 runs once over all N files (one process signs or verifies them all), so its
 *   process start is spread over N documents.
 * Sequential (one document at a time) on one core, after a 20-document warm-up: per-core figures. Rates are per
 * second of CPU (this process's process.cpuUsage; xmlsec1's user + system through /usr/bin/time when present,
 * else wall), so that the ratios hold on a loaded machine; the wall-clock rate is printed beside ours.
 */
export async function benchEvidence(): Promise<void> {
  const n = Number(process.env.BENCH_DOCS ?? 100);
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-evidence-'));
  const { layout } = await initDevPki({ dir: join(dir, 'pki') });
  const trust = loadTrustStore([layout.caCert, layout.caCrl]);
  const tsa = createLocalTsaClient(
    createTimestampAuthority({ identity: loadSigningIdentity(layout.tsaCert, layout.tsaKey) }),
  );
  // Names the evidence issuer's id, as the issuer binding (evidence/issuer-check.ts) requires of a seal.
  const ec = opensslEcSeal(layout, 'Bench EC e-seal', evidenceSamples().SubmissionAcceptance.issuer.id);
  const keys: { name: string; identity: SigningIdentity; keyFile: string; certFile: string; alg: string }[] =
    [
      {
        name: 'RSA-2048',
        identity: loadSigningIdentity(layout.ap('c2').sealCert, layout.ap('c2').sealKey),
        keyFile: layout.ap('c2').sealKey,
        certFile: layout.ap('c2').sealCert,
        alg: RSA_SHA256,
      },
      {
        name: 'ECDSA P-256',
        identity: loadSigningIdentity(ec.certFile, ec.keyFile),
        keyFile: ec.keyFile,
        certFile: ec.certFile,
        alg: ECDSA_SHA256,
      },
    ];
  // The issue's document: a 16 KB evidence (BENCH_EVIDENCE_KB), reached by listing more message parts
  // (each part's id, content type and digest), as a message with many attachments has.
  const targetBytes = Number(process.env.BENCH_EVIDENCE_KB ?? 16) * 1024;
  const sample = evidenceSamples().SubmissionAcceptance;
  const parts = [...(sample.parts ?? [])];
  const base: EvidenceData = { ...sample, parts };
  for (let i = parts.length; buildEvidenceXml(base).length < targetBytes && i < 10_000; i++)
    parts.push({ ...parts[i % 2]!, partId: `part-${i + 1}@c2.example` });
  const docs: EvidenceData[] = Array.from({ length: n }, (_, i) => ({ ...base, id: `ev-bench-${i}` }));
  console.log(
    `settings: ${n} evidence documents (~${buildEvidenceXml(docs[0]!).length} B unsigned), sequential, embedded TSA (RSA-2048), trust store with the dev CRL; xmlsec1 once over all ${n} files`,
  );

  for (const key of keys) {
    const clock = { now: () => new Date() };
    const bt = xadesSealer({ identity: key.identity, tsa, clock, idGenerator: sequentialIdGenerator() });
    const bb = xadesSealer({ identity: key.identity, clock, idGenerator: sequentialIdGenerator() });
    // Warm-up (JIT, first TSA and CRL parses) outside the timings.
    for (let i = 0; i < Math.min(20, n); i++)
      await verifyEvidence((await issueEvidence(docs[i]!, bt)).xml, { trust });
    const sealed: string[] = [];
    const sealBt = await rate(n, async (i) => void sealed.push((await issueEvidence(docs[i]!, bt)).xml));
    const sealBb = await rate(n, async (i) => void (await issueEvidence(docs[i]!, bb)));
    let failures = 0;
    const verifyBt = await rate(n, async (i) => {
      if ((await verifyEvidence(sealed[i]!, { trust })).indication !== 'TOTAL-PASSED') failures++;
    });
    if (failures > 0) throw new Error(`${failures} of our own seals did not verify`);

    const work = join(dir, key.name.replace(/\W+/g, '-'));
    const templates = docs.map((d, i) => write(work, `t${i}.xml`, template(buildEvidenceXml(d), key.alg)));
    const signedFiles = sealed.map((xml, i) => write(work, `s${i}.xml`, xml));
    const xsSign = xmlsecRate(n, ['--sign', '--privkey-pem', `${key.keyFile},${key.certFile}`, ...templates]);
    const xsVerify = xmlsecRate(n, [
      '--verify',
      '--trusted-pem',
      layout.caCert,
      '--id-attr:Id',
      SIGNED_PROPERTIES_ID,
      ...signedFiles,
    ]);

    console.log(`\n${key.name}`);
    console.log(`  seal B-T (ours, with TSA):        ${perSecond(sealBt, 'seals')}`);
    console.log(`  seal B-B (ours, no TSA):          ${perSecond(sealBb, 'seals')}`);
    console.log(
      `  xmlsec1 --sign (XMLDSig only):    ${perSecond(xsSign, 'signatures')}   → ours B-B / xmlsec1 = ${(sealBb.cpu / xsSign.cpu).toFixed(2)}, B-T / xmlsec1 = ${(sealBt.cpu / xsSign.cpu).toFixed(2)} (CPU)`,
    );
    console.log(`  verify B-T (ours, full):          ${perSecond(verifyBt, 'verifications')}`);
    console.log(
      `  xmlsec1 --verify (XMLDSig only):  ${perSecond(xsVerify, 'verifications')} → ours / xmlsec1 = ${(verifyBt.cpu / xsVerify.cpu).toFixed(2)} (CPU)`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
}

/** A rate per CPU second, with the wall-clock rate for reference. */
interface Rate {
  readonly cpu: number;
  readonly wall: number;
}

function rateOf(n: number, cpuSeconds: number, wallSeconds: number): Rate {
  return { cpu: n / cpuSeconds, wall: n / wallSeconds };
}

function perSecond(rate: Rate, what: string): string {
  return `${rate.cpu.toFixed(1)} ${what}/CPU s (${rate.wall.toFixed(1)}/wall s)`;
}

async function rate(n: number, run: (i: number) => Promise<void>): Promise<Rate> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i++) await run(i);
  const cpu = process.cpuUsage(cpu0);
  return rateOf(n, (cpu.user + cpu.system) / 1e6, (performance.now() - t0) / 1000);
}

function xmlsecRate(n: number, args: string[]): Rate {
  const timed = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const r = timed
    ? spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', 'xmlsec1', ...args], {
        encoding: 'utf8',
        maxBuffer: 1 << 30,
      })
    : spawnSync('xmlsec1', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`xmlsec1 ${args[0]} failed: ${r.stderr.slice(0, 500)}`);
  if (args[0] === '--verify' && (r.stderr.match(/^OK$/gm)?.length ?? 0) !== n)
    throw new Error('xmlsec1 did not verify every file');
  const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return rateOf(n, cpu ? Math.max(0.01, Number(cpu[1]) + Number(cpu[2])) : seconds, seconds);
}

function write(dir: string, name: string, text: string): string {
  spawnSync('mkdir', ['-p', dir]);
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

/** The evidence with an empty enveloped XMLDSig template (whole document, exclusive C14N, SHA-256). */
function template(xml: string, alg: string): string {
  const sig =
    '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>' +
    '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>' +
    `<ds:SignatureMethod Algorithm="${alg}"/><ds:Reference URI=""><ds:Transforms>` +
    '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>' +
    '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>' +
    '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>' +
    '</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>';
  return xml.replace(/(<\/(?:\w+:)?Evidence>)$/, `${sig}$1`);
}
