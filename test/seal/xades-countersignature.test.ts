import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrustStore, loadTrustStore, type TrustStore } from '../../src/pki/index.js';
import {
  verifyXadesDocument,
  type XadesDocumentReport,
  type XadesSignatureReport,
} from '../../src/seal/index.js';
import { formatXadesDocumentReport, xadesDocumentReportJson } from '../../src/seal/xades-document-report.js';
import { sharedTestPki } from '../helpers/pki.js';
import { opensslEcSeal } from '../helpers/xmlsec.js';

/**
 * XAdES counter-signatures (EN 319 132-1 §5.2.7 / TS 101 903 §7.2.4.2: xades:CounterSignature holding a
 * ds:Signature over the parent's ds:SignatureValue element) and ds:Manifest references (XMLDSig §5.1):
 * a genuine EU DSS sample, and documents xmlsec1 signs here, each with a one-character change.
 */
const dir = new URL('../fixtures/seal/foreign/', import.meta.url).pathname;
const outcome = (r: XadesDocumentReport | XadesSignatureReport) =>
  `${r.indication}${r.subIndication ? `/${r.subIndication}` : ''}`;
/** One character of the text of the element opening with `open` changed. */
function tamperIn(xml: string, open: string): string {
  const i = xml.indexOf(open);
  if (i < 0) throw new Error(`no ${open} in the document`);
  const at = xml.indexOf('>', i) + 5;
  const c = xml[at]!;
  return `${xml.slice(0, at)}${c === 'A' ? 'B' : 'A'}${xml.slice(at + 1)}`;
}
const firstCert = (xml: string) =>
  new X509Certificate(Buffer.from(/X509Certificate>([^<]+)</.exec(xml)![1]!.replace(/\s+/g, ''), 'base64'));

describe('EU DSS counter-signature sample (dss/TEST_S1a_C1a_InTL_VALID.xml)', () => {
  const xml = readFileSync(join(dir, 'dss/TEST_S1a_C1a_InTL_VALID.xml'), 'utf8');
  const at = new Date('2017-09-21T17:00:00Z');

  it('the counter-signature is verified and listed: its digest over XSIGVAL1 and its value hold; with its signer trusted TOTAL-PASSED', async () => {
    const trust = createTrustStore([firstCert(xml)]);
    const r = await verifyXadesDocument(xml, { trust, at });
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(outcome(r)).toBe('TOTAL-PASSED');
    const cs = r.signatures[0]!.counterSignatures!;
    expect(cs).toHaveLength(1);
    expect(cs[0]).toMatchObject({ id: 'XSIG2', form: 'XAdES', indication: 'TOTAL-PASSED' });
    expect(cs[0]!.signatureValueVerified).toBe(true);
    expect(cs[0]!.references.map((x) => `${x.uri}:${x.status}`)).toEqual([
      '#XSIGVAL1:matched',
      '#XSIGXADES2:matched',
      '#XSIGKEYINFO2:matched',
    ]);
    // Its XPath transform read literally selects nothing inside a ds:Signature; the digest is that of the
    // canonicalized SignatureValue element (TS 101 903 §7.2.4.2): accepted, and said.
    expect(r.findings.map((f) => f.code)).toContain('XADES_COUNTERSIGNED_DIGEST_READING');
    const words = formatXadesDocumentReport(r);
    expect(words).toMatch(
      /\n {4}counter-signature 1 \(XSIG2\): XAdES B-B, TOTAL-PASSED; signature value: verifies; signer: .*DAMIANO DIEGO DE FELICE/,
    );
    const json = JSON.parse(xadesDocumentReportJson(r));
    expect(json.signatures[0].counterSignatures[0].signer.subject).toMatch(/DAMIANO DIEGO DE FELICE/);
  });

  it('with no trust anchor (its Italian CA is not given): INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND for both, cryptography passed', async () => {
    const r = await verifyXadesDocument(xml, { trust: createTrustStore([]), at });
    expect(outcome(r)).toBe('INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND');
    const cs = r.signatures[0]!.counterSignatures![0]!;
    expect(outcome(cs)).toBe('INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND');
    expect(cs.signatureValueVerified).toBe(true);
    expect(cs.references.every((x) => x.status === 'matched')).toBe(true);
  });

  it("xmlsec1 (--node-id XSIG2) reads the counter-signature's XPath transform literally and refuses its reference; without the two no-op transforms it finds all three digests good (the value then fails: SignedInfo changed)", () => {
    const d = mkdtempSync(join(tmpdir(), 'qerds-xades-cs-dss-'));
    const ids = ['Signature', 'SignatureValue', 'KeyInfo'].flatMap((n) => [
      '--id-attr:Id',
      `http://www.w3.org/2000/09/xmldsig#:${n}`,
    ]);
    const check = (text: string) => {
      writeFileSync(join(d, 'a.xml'), text);
      const out = spawnSync(
        'xmlsec1',
        [
          '--verify',
          '--insecure',
          '--print-debug',
          '--node-id',
          'XSIG2',
          ...ids,
          '--id-attr:Id',
          'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
          join(d, 'a.xml'),
        ],
        { encoding: 'utf8' },
      );
      return /SignedInfo References \(ok\/all\): (\d+\/\d+)/.exec(`${out.stdout}${out.stderr}`)?.[1];
    };
    expect(check(xml)).toBe('0/1');
    const i = xml.indexOf('<Reference URI="#XSIGVAL1"');
    const j = xml.indexOf(
      '<Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature" />',
      i,
    );
    const k = xml.indexOf('<Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#" />', j);
    expect(check(`${xml.slice(0, j)}${xml.slice(k)}`)).toBe('3/3');
  });

  it('`qerds verify --trust <signer> --at …` prints one line for the counter-signature; --json lists it with its signer', async () => {
    const { qerdsInProcess } = await import('../helpers/cli.js');
    const d = mkdtempSync(join(tmpdir(), 'qerds-xades-cs-cli-'));
    writeFileSync(join(d, 'signer.pem'), firstCert(xml).toString());
    const file = join(dir, 'dss/TEST_S1a_C1a_InTL_VALID.xml');
    const args = ['verify', file, '--trust', join(d, 'signer.pem'), '--at', at.toISOString()];
    const words = await qerdsInProcess(args);
    expect(words.status).toBe(0);
    expect(words.stdout).toMatch(
      /counter-signature 1 \(XSIG2\): XAdES B-B, TOTAL-PASSED; signature value: verifies/,
    );
    const json = await qerdsInProcess([...args, '--json']);
    const body = JSON.stringify(JSON.parse(json.stdout));
    expect(body).toContain('"counterSignatures"');
    expect(body).toMatch(/"id":"XSIG2"/);
  });

  it("one character of the counter-signature's SignatureValue: it is TOTAL-FAILED/SIG_CRYPTO_FAILURE, and so is the signature it counter-signs", async () => {
    const trust = createTrustStore([firstCert(xml)]);
    const r = await verifyXadesDocument(tamperIn(xml, '<SignatureValue Id="XSIGVAL2"'), { trust, at });
    const cs = r.signatures[0]!.counterSignatures![0]!;
    expect(outcome(cs)).toBe('TOTAL-FAILED/SIG_CRYPTO_FAILURE');
    expect(r.signatures[0]!.signatureValueVerified).toBe(true);
    expect(outcome(r.signatures[0]!)).toBe('TOTAL-FAILED/SIG_CRYPTO_FAILURE');
    expect(outcome(r)).toBe('TOTAL-FAILED/SIG_CRYPTO_FAILURE');
    // Its signed SigningTime changed: HASH_FAILURE.
    const i = xml.indexOf('2017-09-21T18:04:55');
    const changed = `${xml.slice(0, i)}2017-09-21T18:04:56${xml.slice(i + 19)}`;
    const r2 = await verifyXadesDocument(changed, { trust, at });
    expect(outcome(r2.signatures[0]!.counterSignatures![0]!)).toBe('TOTAL-FAILED/HASH_FAILURE');
    expect(outcome(r2)).toBe('TOTAL-FAILED/HASH_FAILURE');
  });
});

describe('counter-signatures and manifests signed by xmlsec1', () => {
  let trust: TrustStore;
  let main: { certFile: string; keyFile: string };
  let counter: { certFile: string; keyFile: string };
  let mainCert: X509Certificate;
  beforeAll(() => {
    const pki = sharedTestPki();
    trust = loadTrustStore([pki.caCert, pki.caCrl]);
    main = opensslEcSeal(pki, 'Test XAdES main signer');
    counter = opensslEcSeal(pki, 'Test XAdES counter-signer');
    mainCert = new X509Certificate(readFileSync(main.certFile));
  });

  const DS = 'http://www.w3.org/2000/09/xmldsig#';
  const ids = [
    '--id-attr:Id',
    'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
    '--id-attr:Id',
    `${DS}:Object`,
    '--id-attr:Id',
    `${DS}:SignatureValue`,
    '--id-attr:Id',
    `${DS}:Signature`,
    '--id-attr:Id',
    `${DS}:Manifest`,
  ];
  const run = (args: string[], xml: string, files: Record<string, string> = {}) => {
    const d = mkdtempSync(join(tmpdir(), 'qerds-xades-cs-'));
    writeFileSync(join(d, 'doc.xml'), xml);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
    return execFileSync('xmlsec1', [...args, ...ids, join(d, 'doc.xml')], {
      encoding: 'utf8',
      stdio: 'pipe',
      cwd: d,
    });
  };
  const si = (refs: string) =>
    `<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>${refs}</ds:SignedInfo>`;
  const ref = (uri: string, type = '') =>
    `<ds:Reference URI="${uri}"${type ? ` Type="${type}"` : ''}><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference>`;
  const counterTemplate = `<xades:CounterSignature><ds:Signature Id="cs1">${si(ref('#sv1', 'http://uri.etsi.org/01903#CountersignedSignature'))}<ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature></xades:CounterSignature>`;
  const template = (opts: { counter: boolean; manifest: boolean }) => {
    const digest = createHash('sha256').update(mainCert.raw).digest('base64');
    const refs = opts.manifest
      ? ref('#sp', 'http://uri.etsi.org/01903#SignedProperties') + ref('#manifest', `${DS}Manifest`)
      : ref('#content') + ref('#sp', 'http://uri.etsi.org/01903#SignedProperties');
    const manifest = opts.manifest
      ? `<ds:Object><ds:Manifest Id="manifest">${ref('#content')}${ref('#other')}<ds:Reference URI="doc.txt"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:Manifest></ds:Object><ds:Object Id="other">second manifest target</ds:Object>`
      : '';
    return `<?xml version="1.0" encoding="UTF-8"?>
<ds:Signature xmlns:ds="${DS}" Id="sig">${si(refs)}<ds:SignatureValue Id="sv1"/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo><ds:Object><xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" Target="#sig"><xades:SignedProperties Id="sp"><xades:SignedSignatureProperties><xades:SigningTime>${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}</xades:SigningTime><xades:SigningCertificateV2><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>${digest}</ds:DigestValue></xades:CertDigest></xades:Cert></xades:SigningCertificateV2></xades:SignedSignatureProperties></xades:SignedProperties>${opts.counter ? `<xades:UnsignedProperties><xades:UnsignedSignatureProperties>${counterTemplate}</xades:UnsignedSignatureProperties></xades:UnsignedProperties>` : ''}</xades:QualifyingProperties></ds:Object>${manifest}<ds:Object Id="content">Hello, world</ds:Object></ds:Signature>
`;
  };
  /** The main signature first (xmlsec1 signs the first ds:Signature), then the counter-signature (--node-id). */
  const signWithCounter = () => {
    const once = run(
      ['--sign', '--privkey-pem', `${main.keyFile},${main.certFile}`],
      template({ counter: true, manifest: false }),
    );
    return run(
      ['--sign', '--node-id', 'cs1', '--privkey-pem', `${counter.keyFile},${counter.certFile}`],
      once,
    );
  };

  it('xmlsec1 signs and verifies both (--node-id for the counter-signature); we verify both: TOTAL-PASSED, one line per counter-signature', async () => {
    const signed = signWithCounter();
    run(['--verify', '--insecure'], signed); // throws unless xmlsec1 verifies the main signature
    run(['--verify', '--insecure', '--node-id', 'cs1'], signed); // and the counter-signature's reference and value
    const r = await verifyXadesDocument(signed, { trust });
    expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(outcome(r)).toBe('TOTAL-PASSED');
    const cs = r.signatures[0]!.counterSignatures![0]!;
    expect(cs).toMatchObject({
      id: 'cs1',
      form: 'XMLDSig',
      indication: 'TOTAL-PASSED',
      signatureValueVerified: true,
    });
    expect(cs.signer?.subject).toMatch(/Test XAdES counter-signer/);
    expect(cs.references).toEqual([
      { uri: '#sv1', type: 'http://uri.etsi.org/01903#CountersignedSignature', status: 'matched' },
    ]);
    expect(formatXadesDocumentReport(r)).toMatch(
      /\n {4}counter-signature 1 \(cs1\): XMLDSig none, TOTAL-PASSED; signature value: verifies; signer: .*Test XAdES counter-signer/,
    );
  });

  it("one character changed: in the counter-signature's value SIG_CRYPTO_FAILURE; in the countersigned SignatureValue the counter-signature's digest fails (HASH_FAILURE) — both TOTAL-FAILED", async () => {
    const signed = signWithCounter();
    const r1 = await verifyXadesDocument(tamperIn(signed, '<ds:SignatureValue>'), { trust });
    // The only SignatureValue without an Id is the counter-signature's.
    expect(outcome(r1.signatures[0]!.counterSignatures![0]!)).toBe('TOTAL-FAILED/SIG_CRYPTO_FAILURE');
    expect(r1.signatures[0]!.signatureValueVerified).toBe(true);
    expect(outcome(r1)).toBe('TOTAL-FAILED/SIG_CRYPTO_FAILURE');
    const r2 = await verifyXadesDocument(tamperIn(signed, '<ds:SignatureValue Id="sv1"'), { trust });
    expect(outcome(r2.signatures[0]!.counterSignatures![0]!)).toBe('TOTAL-FAILED/HASH_FAILURE');
    expect(r2.indication).toBe('TOTAL-FAILED');
  });

  it('a counter-signer that does not chain to the trust anchors makes the countersigned signature INDETERMINATE (the weakest decides), never PASSED', async () => {
    const signed = signWithCounter();
    const r = await verifyXadesDocument(signed, {
      trust: loadTrustStore([sharedTestPki().caCert, sharedTestPki().caCrl]),
    });
    expect(outcome(r)).toBe('TOTAL-PASSED');
    // Only the main signer's certificate as anchor: the counter-signer has no path.
    const onlyMain = createTrustStore([mainCert]);
    const r2 = await verifyXadesDocument(signed, { trust: onlyMain });
    expect(outcome(r2.signatures[0]!.counterSignatures![0]!)).toBe(
      'INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND',
    );
    expect(r2.signatures[0]!.counterSignatures![0]!.signatureValueVerified).toBe(true);
    expect(r2.indication).toBe('INDETERMINATE');
  });

  it('a counter-signature whose reference points elsewhere than the SignatureValue: TOTAL-FAILED/FORMAT_FAILURE', async () => {
    const once = run(
      ['--sign', '--privkey-pem', `${main.keyFile},${main.certFile}`],
      template({ counter: true, manifest: false }).replace('URI="#sv1"', 'URI="#content"'),
    );
    const signed = run(
      ['--sign', '--node-id', 'cs1', '--privkey-pem', `${counter.keyFile},${counter.certFile}`],
      once,
    );
    const r = await verifyXadesDocument(signed, { trust });
    expect(outcome(r.signatures[0]!.counterSignatures![0]!)).toBe('TOTAL-FAILED/FORMAT_FAILURE');
    expect(r.findings.map((f) => f.code)).toContain('XADES_COUNTERSIGNATURE_TARGET');
  });

  it('ds:Manifest (xmlsec1 computes its digests): each same-document reference VALID, the external one "not checked"; a changed manifest target is INVALID with a warning, the verdict unchanged', async () => {
    const document = 'the external document\n';
    const signed = run(
      ['--sign', '--privkey-pem', `${main.keyFile},${main.certFile}`],
      template({ counter: false, manifest: true }),
      { 'doc.txt': document },
    );
    expect(xmlsecManifestCount(signed, document)).toBe('3/3'); // xmlsec1 checks the manifest too
    const r = await verifyXadesDocument(signed, { trust });
    expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(outcome(r)).toBe('TOTAL-PASSED');
    expect(r.signatures[0]!.manifests).toEqual([
      {
        id: 'manifest',
        references: [
          { uri: '#content', status: 'VALID' },
          { uri: '#other', status: 'VALID' },
          { uri: 'doc.txt', status: 'not checked', message: expect.stringMatching(/not available/) },
        ],
      },
    ]);
    expect(formatXadesDocumentReport(r)).toContain('    manifest manifest reference "doc.txt": not checked');
    // Given with --document, the external one is checked too.
    const given = await verifyXadesDocument(signed, {
      trust,
      detached: [{ name: 'doc.txt', bytes: Buffer.from(document) }],
    });
    expect(given.signatures[0]!.manifests![0]!.references[2]!.status).toBe('VALID');

    // A manifest target changed: core validation still holds (XMLDSig §5.1), the reference is INVALID.
    const changed = signed.replace('second manifest target', 'second manifest targeT');
    expect(xmlsecManifestCount(changed, document)).toBe('2/3');
    const c = await verifyXadesDocument(changed, { trust });
    expect(outcome(c)).toBe('TOTAL-PASSED');
    expect(c.signatures[0]!.manifests![0]!.references.map((x) => x.status)).toEqual([
      'VALID',
      'INVALID',
      'not checked',
    ]);
    expect(c.findings).toContainEqual(
      expect.objectContaining({ code: 'XADES_MANIFEST_REFERENCE_INVALID', severity: 'warning' }),
    );
    expect(formatXadesDocumentReport(c)).toContain('    manifest manifest reference "#other": INVALID');
    // The Manifest itself changed: the signature's own reference fails.
    const manifestChanged = signed.replace(
      /(<ds:Manifest Id="manifest">[\s\S]*?<ds:DigestValue>)(.)/,
      (_, a, ch) => `${a}${ch === 'A' ? 'B' : 'A'}`,
    );
    expect(outcome(await verifyXadesDocument(manifestChanged, { trust }))).toBe('TOTAL-FAILED/HASH_FAILURE');
  });

  /** xmlsec1's own count of the manifest references it found valid (`--print-debug`: "ok/all"). */
  const xmlsecManifestCount = (xml: string, document: string) => {
    const d = mkdtempSync(join(tmpdir(), 'qerds-xades-cs-'));
    writeFileSync(join(d, 'doc.xml'), xml);
    writeFileSync(join(d, 'doc.txt'), document);
    const out = spawnSync(
      'xmlsec1',
      ['--verify', '--insecure', '--print-debug', ...ids, join(d, 'doc.xml')],
      {
        encoding: 'utf8',
        cwd: d,
      },
    );
    expect(out.status).toBe(0); // core validation holds for xmlsec1 too
    return /Manifests References \(ok\/all\): (\d+\/\d+)/.exec(`${out.stdout}${out.stderr}`)?.[1];
  };
});
