import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
 * same documents in the same run:
 * - ours: sealXml B-T (SignedProperties + a SignatureTimeStamp from the embedded TSA, RSA-2048) and
 *   B-B; verifyEvidence of the B-T evidence (signature, path with CRL, timestamp token, evidence parse);
 * - xmlsec1 --sign: a plain enveloped XMLDSig (no XAdES properties, no timestamp) over the same evidence
 *   document; xmlsec1 --verify: our B-T evidence (its XMLDSig layer only: xmlsec1 does not check the
 *   timestamp). xmlsec1 runs once over all N files, so its process start is spread over N documents.
 * Sequential (one document at a time) on one core, after a 20-document warm-up: per-core figures.
 */
export async function benchEvidence(): Promise<void> {
  const n = Number(process.env.BENCH_DOCS ?? 200);
  const dir = mkdtempSync(join(tmpdir(), 'qerds-bench-evidence-'));
  const { layout } = await initDevPki({ dir: join(dir, 'pki') });
  const trust = loadTrustStore([layout.caCert, layout.caCrl]);
  const tsa = createLocalTsaClient(createTimestampAuthority({ identity: loadSigningIdentity(layout.tsaCert, layout.tsaKey) }));
  const ec = opensslEcSeal(layout, 'Bench EC e-seal');
  const keys: { name: string; identity: SigningIdentity; keyFile: string; certFile: string; alg: string }[] = [
    { name: 'RSA-2048', identity: loadSigningIdentity(layout.ap('c2').sealCert, layout.ap('c2').sealKey), keyFile: layout.ap('c2').sealKey, certFile: layout.ap('c2').sealCert, alg: RSA_SHA256 },
    { name: 'ECDSA P-256', identity: loadSigningIdentity(ec.certFile, ec.keyFile), keyFile: ec.keyFile, certFile: ec.certFile, alg: ECDSA_SHA256 },
  ];
  const base = evidenceSamples().SubmissionAcceptance;
  const docs: EvidenceData[] = Array.from({ length: n }, (_, i) => ({ ...base, id: `ev-bench-${i}` }));
  console.log(`settings: ${n} evidence documents (~${buildEvidenceXml(docs[0]!).length} B unsigned), sequential, embedded TSA (RSA-2048), trust store with the dev CRL; xmlsec1 once over all ${n} files`);

  for (const key of keys) {
    const clock = { now: () => new Date() };
    const bt = xadesSealer({ identity: key.identity, tsa, clock, idGenerator: sequentialIdGenerator() });
    const bb = xadesSealer({ identity: key.identity, clock, idGenerator: sequentialIdGenerator() });
    // Warm-up (JIT, first TSA and CRL parses) outside the timings.
    for (let i = 0; i < Math.min(20, n); i++) await verifyEvidence((await issueEvidence(docs[i]!, bt)).xml, { trust });
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
    const xsVerify = xmlsecRate(n, ['--verify', '--trusted-pem', layout.caCert, '--id-attr:Id', SIGNED_PROPERTIES_ID, ...signedFiles]);

    console.log(`\n${key.name}`);
    console.log(`  seal B-T (ours, with TSA):        ${sealBt.toFixed(1)} seals/s`);
    console.log(`  seal B-B (ours, no TSA):          ${sealBb.toFixed(1)} seals/s`);
    console.log(`  xmlsec1 --sign (XMLDSig only):    ${xsSign.toFixed(1)} signatures/s   → ours B-B / xmlsec1 = ${(sealBb / xsSign).toFixed(2)}, B-T / xmlsec1 = ${(sealBt / xsSign).toFixed(2)}`);
    console.log(`  verify B-T (ours, full):          ${verifyBt.toFixed(1)} verifications/s`);
    console.log(`  xmlsec1 --verify (XMLDSig only):  ${xsVerify.toFixed(1)} verifications/s → ours / xmlsec1 = ${(verifyBt / xsVerify).toFixed(2)}`);
  }
  rmSync(dir, { recursive: true, force: true });
}

async function rate(n: number, run: (i: number) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await run(i);
  return n / ((performance.now() - t0) / 1000);
}

function xmlsecRate(n: number, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync('xmlsec1', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`xmlsec1 ${args[0]} failed: ${r.stderr.slice(0, 500)}`);
  if (args[0] === '--verify' && (r.stderr.match(/^OK$/gm)?.length ?? 0) !== n) throw new Error('xmlsec1 did not verify every file');
  return n / seconds;
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
