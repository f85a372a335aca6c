import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrustStore, loadTrustStore, type TrustStore } from '../../src/pki/index.js';
import { verifyXadesDocument, type XadesDocumentReport } from '../../src/seal/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { opensslEcSeal } from '../helpers/xmlsec.js';

/**
 * Signed XML made by independent producers (EU DSS and the ETSI plugtests it keeps, xmlsec's test vectors,
 * and xmlsec1 --sign on templates written here), verified by their own standard: a genuine one is never
 * FAILED, and a one-character change in what is signed is.
 */
const dir = new URL('../fixtures/seal/foreign/', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(dir, path), 'utf8');

/** Every certificate the document carries (KeyInfo, CertificateValues, inside no token). */
function certificatesIn(xml: string): X509Certificate[] {
  return [...xml.matchAll(/(?:X509Certificate|EncapsulatedX509Certificate)[^>]*>([^<]+)</g)].flatMap((m) => {
    try {
      return [new X509Certificate(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'))];
    } catch {
      return [];
    }
  });
}
/**
 * The self-signed certificates the document carries, supplied as trust anchors (`--trust`); when it carries
 * none, its first certificate (the signer's) is the anchor, as a user who trusts that signer would give it.
 */
function rootsIn(xml: string): TrustStore {
  const certs = certificatesIn(xml);
  const roots = certs.filter((c) => c.subject === c.issuer);
  return createTrustStore(roots.length > 0 ? roots : certs.slice(0, 1));
}
/** One character of `needle`'s first occurrence after `after` changed. */
function tamper(xml: string, needle: string, after = ''): string {
  const from = after ? xml.indexOf(after) : 0;
  if (from < 0) throw new Error(`no ${after} in the document`);
  const i = xml.indexOf(needle, from);
  if (i < 0) throw new Error(`no ${needle} in the document`);
  const c = xml[i]!;
  return `${xml.slice(0, i)}${c === 'X' ? 'Y' : 'X'}${xml.slice(i + 1)}`;
}
const outcome = (r: XadesDocumentReport) => `${r.indication}${r.subIndication ? `/${r.subIndication}` : ''}`;

describe('XAdES of EU DSS, the ETSI plugtests and xadesjs vectors', () => {
  const genuine: { file: string; at: string; form: string; trust?: (xml: string) => TrustStore }[] = [
    { file: 'dss/dss-signed.xml', at: '2019-02-19T14:00:00Z', form: 'enveloped, exclusive C14N, B-B' },
    {
      file: 'dss/Signature-X-FR_NOT-3.xml',
      at: '2014-11-07T10:00:00Z',
      form: 'enveloped, C14N 1.0, XAdES 1.2.2, ds:Object reference',
    },
    {
      file: 'dss/Signature-X-SK_DIT-1.xml',
      at: '2014-11-18T12:00:00Z',
      form: 'enveloping, manifests, C14N 1.0',
    },
    {
      file: 'dss/TEST_S1a_C1a_InTL_VALID.xml',
      at: '2017-09-21T17:00:00Z',
      form: 'XPath 1.0 transform, counter-signature',
    },
    {
      file: 'dss/qes-xades111-filter2.xml',
      at: '2011-09-12T10:00:00Z',
      form: 'XPath Filter 2.0, XAdES 1.1.1, SigningCertificate v1',
    },
    {
      file: 'dss/Signature-X-AT-1.xml',
      at: '2013-12-23T13:00:00Z',
      form: 'XPath Filter 2.0 with id(), XAdES 1.1.1',
    },
    // Plugtest signatures that xadesjs (PeculiarVentures/xadesjs test/vectors/reading.ts) reads and verifies.
    {
      file: 'xadesjs/X_AT_SIT_1.xml',
      at: '2016-05-01T00:00:00Z',
      form: 'enveloping base64 ds:Object, ECDSA, SigningCertificate v1',
    },
    {
      file: 'xadesjs/X_BE_CONN_10.xml',
      at: '2016-05-01T00:00:00Z',
      form: 'enveloping base64 ds:Object, RSA-SHA512, SigningCertificate v1',
    },
  ];
  for (const g of genuine) {
    it(`${g.file} (${g.form}): TOTAL-PASSED; one character changed: TOTAL-FAILED`, async () => {
      const xml = read(g.file);
      const trust = rootsIn(xml);
      const r = await verifyXadesDocument(xml, { trust, at: new Date(g.at) });
      expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
      expect(r).toMatchObject({ kind: 'XAdES', indication: 'TOTAL-PASSED' });
      expect(r.signatures[0]?.signatureValueVerified).toBe(true);
      // The signed SigningTime (or its equivalent) changed by one character.
      const changed = await verifyXadesDocument(tamper(xml, '1', 'SigningTime>'), {
        trust,
        at: new Date(g.at),
      });
      expect(changed.indication).toBe('TOTAL-FAILED');
      expect(changed.subIndication).toBe('HASH_FAILURE');
    });
  }

  it('B-LTA (xades-extended-short-a): both timestamps hold; the delegated OCSP responder is not issued by the CA, so revocation is unknown: INDETERMINATE/TRY_LATER', async () => {
    const xml = read('dss/xades-extended-short-a.xml');
    const r = await verifyXadesDocument(xml, { trust: rootsIn(xml), at: new Date('2021-06-01T00:00:00Z') });
    expect(outcome(r)).toBe('INDETERMINATE/TRY_LATER');
    expect(r.signatures[0]).toMatchObject({ level: 'B-LTA', signatureValueVerified: true });
    expect(r.signatures[0]?.timestamps.map((t) => `${t.kind}:${t.valid}`)).toEqual([
      'SignatureTimeStamp:true',
      'ArchiveTimeStamp:true',
    ]);
    const changed = await verifyXadesDocument(tamper(xml, 'A', '<xades:CertificateValues'), {
      trust: rootsIn(xml),
      at: new Date('2021-06-01T00:00:00Z'),
    });
    expect(changed.indication).toBe('TOTAL-FAILED');
  });

  it('XAdES-XL (xades-extended-xl, SigAndRefsTimeStamp): timestamps hold, crypto passes, its OCSP responses (SHA-256 CertIDs) give the status: TOTAL-PASSED', async () => {
    const xml = read('dss/xades-extended-xl.xml');
    const r = await verifyXadesDocument(xml, { trust: rootsIn(xml), at: new Date('2021-12-01T00:00:00Z') });
    expect(outcome(r)).toBe('TOTAL-PASSED');
    // DSS wrote Target="#Signature" for the ds:Signature Id "signature": reported, not fatal.
    expect(r.findings.map((f) => `${f.severity}:${f.code}`)).toEqual(['warning:SEAL_XADES_TARGET']);
    expect(r.signatures[0]?.timestamps.map((t) => `${t.kind}:${t.valid}`)).toEqual([
      'SignatureTimeStamp:true',
      'SigAndRefsTimeStamp:true',
    ]);
    expect(r.signatures[0]?.signatureValueVerified).toBe(true);
  });

  it('XAdES-X v2 and B-LTA whose TSA roots the document does not carry: crypto passes, the timestamps are INDETERMINATE (no POE), never FAILED', async () => {
    for (const [file, at] of [
      ['dss/xades-x-level-v2.xml', '2021-03-01T00:00:00Z'],
      ['dss/xades-lta-valid.xml', '2021-08-01T00:00:00Z'],
      ['dss/xades-extended-t.xml', '2021-06-01T00:00:00Z'],
    ] as const) {
      const xml = read(file);
      const r = await verifyXadesDocument(xml, { trust: rootsIn(xml), at: new Date(at) });
      expect(r.indication, file).toBe('INDETERMINATE');
      expect(r.signatures[0]?.signatureValueVerified, file).toBe(true);
      expect(
        r.findings.map((f) => f.code),
        file,
      ).not.toContain('SEAL_TIMESTAMP_HASH_FAILURE');
    }
  });

  it('a trusted list (DK TL, SigningCertificate, enveloped exclusive C14N) is reported as one; its signer as anchor: TOTAL-PASSED; without it: INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND', async () => {
    const xml = read('dss/dk_tl-sn21.xml');
    const at = new Date('2019-08-05T10:00:00Z');
    const untrusted = await verifyXadesDocument(xml, { trust: createTrustStore([]), at });
    expect(outcome(untrusted)).toBe('INDETERMINATE/NO_CERTIFICATE_CHAIN_FOUND');
    expect(untrusted.signatures[0]?.signatureValueVerified).toBe(true);
    const signer = untrusted.signatures[0]!.signer!;
    const r = await verifyXadesDocument(xml, { trust: createTrustStore([signer]), at });
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(r).toMatchObject({ kind: 'trusted list', indication: 'TOTAL-PASSED' });
    expect(
      outcome(
        await verifyXadesDocument(tamper(xml, 'D', '<SchemeOperatorName>'), {
          trust: createTrustStore([signer]),
          at,
        }),
      ),
    ).toBe('TOTAL-FAILED/HASH_FAILURE');
  });

  it('a detached signature without its document: INDETERMINATE/SIGNED_DATA_NOT_FOUND, not FAILED', async () => {
    const xml = read('dss/Signature-X-HU_MIC-1.xml');
    const r = await verifyXadesDocument(xml, { trust: rootsIn(xml), at: new Date('2019-11-04T16:00:00Z') });
    expect(outcome(r)).toBe('INDETERMINATE/SIGNED_DATA_NOT_FOUND');
    expect(r.signatures[0]?.signatureValueVerified).toBe(true);
  });

  it('SHA-1 (xmldsig-only, rsa-sha1): the value verifies, the crypto constraints refuse it: INDETERMINATE/CRYPTO_CONSTRAINTS_FAILURE', async () => {
    const xml = read('dss/xmldsig-only.xml');
    const r = await verifyXadesDocument(xml, { trust: createTrustStore(certificatesIn(xml)) });
    expect(r).toMatchObject({
      kind: 'XMLDSig',
      indication: 'INDETERMINATE',
      subIndication: 'CRYPTO_CONSTRAINTS_FAILURE',
    });
    expect(r.signatures[0]?.signatureValueVerified).toBe(true);
  });

  it("DSS's own tampered sample (xades-tampered-reference) is TOTAL-FAILED/HASH_FAILURE", async () => {
    const xml = read('dss/xades-tampered-reference.xml');
    expect(
      outcome(await verifyXadesDocument(xml, { trust: rootsIn(xml), at: new Date('2015-12-07T12:00:00Z') })),
    ).toBe('TOTAL-FAILED/HASH_FAILURE');
  });
});

describe('xmlsec test vectors (lsh123/xmlsec tests/)', () => {
  it('enveloping RSA and ECDSA (aleksey-xmldsig-01): crypto passes; no revocation data for the signer: INDETERMINATE/TRY_LATER; one character changed: FAILED', async () => {
    for (const file of [
      'xmlsec/enveloping-sha256-rsa-sha256.xml',
      'xmlsec/enveloping-sha256-ecdsa-sha256.xml',
    ]) {
      const xml = read(file);
      const trust = rootsIn(xml);
      const at = new Date(
        Math.min(...certificatesIn(xml).map((c) => new Date(c.validTo).getTime())) - 86_400_000,
      );
      const r = await verifyXadesDocument(xml, { trust, at });
      expect(outcome(r), file).toBe('INDETERMINATE/TRY_LATER');
      expect(r.signatures[0]?.signatureValueVerified, file).toBe(true);
      const changed = await verifyXadesDocument(tamper(xml, 'o', '<Object'), { trust, at });
      expect(changed.indication, file).toBe('TOTAL-FAILED');
    }
  });
});

describe('xmlsec1 --sign on our templates: each transform and C14N variant', () => {
  let trust: TrustStore;
  let key: { certFile: string; keyFile: string };
  beforeAll(() => {
    const pki = sharedTestPki();
    trust = loadTrustStore([pki.caCert, pki.caCrl]);
    key = opensslEcSeal(pki, 'Test foreign XAdES');
  });

  const C14N10 = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
  const C14N10C = `${C14N10}#WithComments`;
  const C14N11 = 'http://www.w3.org/2006/12/xml-c14n11';
  const EXC = 'http://www.w3.org/2001/10/xml-exc-c14n#';
  const EXCC = `${EXC}WithComments`;
  const ENV = '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>';
  const t = (alg: string, inner = '') => `<ds:Transform Algorithm="${alg}">${inner}</ds:Transform>`;
  const variants: {
    name: string;
    signedInfoC14n: string;
    uri: string;
    transforms: string;
    tamper: string;
    unsignedChange?: string;
  }[] = [
    {
      name: 'URI="" enveloped, C14N 1.0',
      signedInfoC14n: C14N10,
      uri: '',
      transforms: ENV + t(C14N10),
      tamper: 'Hello',
    },
    {
      name: 'URI="#xpointer(/)" enveloped, C14N 1.0 with comments',
      signedInfoC14n: C14N10C,
      uri: '#xpointer(/)',
      transforms: ENV + t(C14N10C),
      tamper: ' note ',
    },
    {
      name: 'URI="" enveloped, C14N 1.1',
      signedInfoC14n: C14N11,
      uri: '',
      transforms: ENV + t(C14N11),
      tamper: 'Hello',
    },
    // A bare-name reference drops comments (XMLDSig §4.4.3.3) even before a WithComments C14N: the comment is not signed.
    {
      name: 'URI="#data" exclusive C14N with comments',
      signedInfoC14n: EXCC,
      uri: '#data',
      transforms: t(EXCC),
      tamper: 'Hello',
      unsignedChange: ' note ',
    },
    {
      name: 'URI="#data" exclusive C14N with InclusiveNamespaces PrefixList',
      signedInfoC14n: EXC,
      uri: '#data',
      transforms: t(EXC, `<ec:InclusiveNamespaces xmlns:ec="${EXC}" PrefixList="un #default"/>`),
      tamper: 'Hello',
    },
    {
      name: 'URI="#item" (xml:id), exclusive C14N',
      signedInfoC14n: EXC,
      uri: '#item',
      transforms: t(EXC),
      tamper: 'Hello',
    },
    {
      name: 'URI="" XPath Filter 2.0 subtract, then enveloped',
      signedInfoC14n: EXC,
      uri: '',
      transforms:
        t(
          'http://www.w3.org/2002/06/xmldsig-filter2',
          '<dsig-xpath:XPath xmlns:dsig-xpath="http://www.w3.org/2002/06/xmldsig-filter2" Filter="subtract">//*[local-name()=\'Other\']</dsig-xpath:XPath>',
        ) + ENV,
      tamper: 'Hello',
      unsignedChange: 'unsigned',
    },
    {
      name: 'URI="" XPath 1.0 not(ancestor-or-self::ds:Signature)',
      signedInfoC14n: C14N10,
      uri: '',
      transforms: t(
        'http://www.w3.org/TR/1999/REC-xpath-19991116',
        '<ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath>',
      ),
      tamper: 'Hello',
    },
    {
      name: 'URI="#obj" base64 (enveloping ds:Object)',
      signedInfoC14n: EXC,
      uri: '#obj',
      transforms: t('http://www.w3.org/2000/09/xmldsig#base64'),
      tamper: 'SGVsbG',
    },
  ];

  const template = (v: (typeof variants)[number]) => `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:example:doc" xmlns:un="urn:example:unused" xmlns:ex="urn:example:item">
  <ex:Item Id="data" xml:id="item">Hello <!-- note --> world &amp; more</ex:Item>
  <Other>unsigned</Other>
  <ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="sig">
    <ds:SignedInfo>
      <ds:CanonicalizationMethod Algorithm="${v.signedInfoC14n}"/>
      <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>
      <ds:Reference URI="${v.uri}"><ds:Transforms>${v.transforms}</ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference>
    </ds:SignedInfo>
    <ds:SignatureValue></ds:SignatureValue>
    <ds:KeyInfo><ds:X509Data></ds:X509Data></ds:KeyInfo>
    <ds:Object Id="obj">SGVsbG8sIHdvcmxkIQ==</ds:Object>
  </ds:Signature>
</Document>
`;
  const xmlsec = (args: string[], xml: string) => {
    const d = mkdtempSync(join(tmpdir(), 'qerds-foreign-'));
    writeFileSync(join(d, 'doc.xml'), xml);
    const ids = [
      '--id-attr:Id',
      'urn:example:item:Item',
      '--id-attr:Id',
      'http://www.w3.org/2000/09/xmldsig#:Object',
    ];
    return execFileSync('xmlsec1', [...args, ...ids, join(d, 'doc.xml')], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
  };

  for (const v of variants) {
    it(`${v.name}: xmlsec1 signs and verifies; we verify; one character changed: TOTAL-FAILED`, async () => {
      const signed = xmlsec(['--sign', '--privkey-pem', `${key.keyFile},${key.certFile}`], template(v));
      expect(signed).toContain('<ds:X509Certificate>');
      xmlsec(['--verify', '--insecure'], signed); // throws unless xmlsec1 verifies it too
      const r = await verifyXadesDocument(signed, { trust });
      expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
      expect(r).toMatchObject({ kind: 'XMLDSig', indication: 'TOTAL-PASSED' });
      const changed = await verifyXadesDocument(
        tamper(
          signed,
          v.tamper === 'SGVsbG' ? 'G' : v.tamper.trim()[0]!,
          v.tamper === 'SGVsbG' ? '<ds:Object' : v.tamper,
        ),
        { trust },
      );
      expect(outcome(changed)).toBe('TOTAL-FAILED/HASH_FAILURE');
      if (v.unsignedChange) {
        // The filtered-out part is not signed: changing it changes nothing.
        expect(
          (await verifyXadesDocument(signed.replace(v.unsignedChange, 'changed!'), { trust })).indication,
        ).toBe('TOTAL-PASSED');
      }
    });
  }
});

describe('XPath Filter 2.0 against the merlin-xpath-filter2-three vectors (lsh123/xmlsec)', () => {
  it('sign-spec and sign-xfdl: our canonical octets are byte for byte the C14N output the vectors ship, and the digests match', async () => {
    const { canonicalizeNodeSet, c14nMethodOf, documentNodeSet, isInSubtree } =
      await import('../../src/xml/c14n-nodeset.js');
    const { applyXPathFilter2, readFilter2Steps } = await import('../../src/xml/xpath-filter2.js');
    const { parseXmlStrict } = await import('../../src/xml/index.js');
    for (const name of ['sign-spec', 'sign-xfdl']) {
      const doc = parseXmlStrict(read(`xmlsec/${name}.xml`), 'BAD_REQUEST');
      const ds = 'http://www.w3.org/2000/09/xmldsig#';
      const sig = doc.getElementsByTagNameNS(ds, 'Signature')[0]!;
      const ref = doc.getElementsByTagNameNS(ds, 'Reference')[0]!;
      let set = documentNodeSet(doc, false);
      for (const tr of Array.from(
        ref.getElementsByTagNameNS(ds, 'Transform') as unknown as ArrayLike<Element>,
      )) {
        const prev = set;
        set = tr.getAttribute('Algorithm')!.endsWith('enveloped-signature')
          ? { document: doc, has: (n: Node) => prev.has(n) && !isInSubtree(n, sig) }
          : applyXPathFilter2(set, readFilter2Steps(tr));
      }
      expect(canonicalizeNodeSet(set, c14nMethodOf('http://www.w3.org/TR/2001/REC-xml-c14n-20010315')!)).toBe(
        read(`xmlsec/${name}-c14n-0.txt`),
      );
    }
    // sign-spec's second reference: enveloped-signature empties the input, and a union cannot add to it.
    const r = await verifyXadesDocument(read('xmlsec/sign-spec.xml'), { trust: createTrustStore([]) });
    expect(r.signatures[0]?.references.map((x) => x.status)).toEqual(['matched', 'matched']);
    expect(r.indication).toBe('INDETERMINATE'); // DSA-SHA1 is not implemented: not a failure
  });
});

describe('XAdES made by xmlsec1 --sign: SigningCertificate v1 (SHA-1 digest, for identification) and V2, enveloping and detached', () => {
  let trust: TrustStore;
  let key: { certFile: string; keyFile: string };
  let cert: X509Certificate;
  beforeAll(() => {
    const pki = sharedTestPki();
    trust = loadTrustStore([pki.caCert, pki.caCrl]);
    // Like a REM provider's QSealC, the seal names its organisation: the issuer of the sample evidence signed below.
    key = opensslEcSeal(pki, 'Test foreign XAdES v1', 'urn:qerds-ap:ap:c2');
    cert = new X509Certificate(readFileSync(key.certFile));
  });

  const signingCertificate = (v: 1 | 2) => {
    const alg = v === 1 ? 'sha1' : 'sha256';
    const uri =
      v === 1 ? 'http://www.w3.org/2000/09/xmldsig#sha1' : 'http://www.w3.org/2001/04/xmlenc#sha256';
    const digest = createHash(alg).update(cert.raw).digest('base64');
    const issuerSerial =
      v === 1
        ? `<xades:IssuerSerial><ds:X509IssuerName>${cert.issuer.split('\n').reverse().join(',')}</ds:X509IssuerName><ds:X509SerialNumber>${BigInt(`0x${cert.serialNumber}`).toString()}</ds:X509SerialNumber></xades:IssuerSerial>`
        : '';
    const name = v === 1 ? 'SigningCertificate' : 'SigningCertificateV2';
    return `<xades:${name}><xades:Cert><xades:CertDigest><ds:DigestMethod Algorithm="${uri}"/><ds:DigestValue>${digest}</ds:DigestValue></xades:CertDigest>${issuerSerial}</xades:Cert></xades:${name}>`;
  };
  const template = (v: 1 | 2, detached: boolean) => `<?xml version="1.0" encoding="UTF-8"?>
<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Id="sig">
  <ds:SignedInfo>
    <ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
    <ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/>
    <ds:Reference URI="${detached ? 'doc.txt' : '#content'}"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference>
    <ds:Reference URI="#sp" Type="http://uri.etsi.org/01903#SignedProperties"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference>
  </ds:SignedInfo>
  <ds:SignatureValue></ds:SignatureValue>
  <ds:KeyInfo><ds:X509Data></ds:X509Data></ds:KeyInfo>
  <ds:Object><xades:QualifyingProperties xmlns:xades="http://uri.etsi.org/01903/v1.3.2#" Target="#sig"><xades:SignedProperties Id="sp"><xades:SignedSignatureProperties><xades:SigningTime>${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}</xades:SigningTime>${signingCertificate(v)}</xades:SignedSignatureProperties></xades:SignedProperties></xades:QualifyingProperties></ds:Object>
  <ds:Object Id="content">Hello, world</ds:Object>
</ds:Signature>
`;
  const sign = (xml: string, document?: Buffer) => {
    const d = mkdtempSync(join(tmpdir(), 'qerds-foreign-xades-'));
    writeFileSync(join(d, 'sig.xml'), xml);
    if (document) writeFileSync(join(d, 'doc.txt'), document);
    const ids = [
      '--id-attr:Id',
      'http://uri.etsi.org/01903/v1.3.2#:SignedProperties',
      '--id-attr:Id',
      'http://www.w3.org/2000/09/xmldsig#:Object',
    ];
    return execFileSync(
      'xmlsec1',
      ['--sign', '--privkey-pem', `${key.keyFile},${key.certFile}`, ...ids, join(d, 'sig.xml')],
      { encoding: 'utf8', stdio: 'pipe', cwd: d },
    );
  };

  for (const v of [1, 2] as const) {
    it(`enveloping, SigningCertificate${v === 2 ? 'V2' : ' (v1)'}: TOTAL-PASSED, kind XAdES; the signed content changed: TOTAL-FAILED`, async () => {
      const signed = sign(template(v, false));
      const r = await verifyXadesDocument(signed, { trust });
      expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
      expect(r).toMatchObject({ kind: 'XAdES', indication: 'TOTAL-PASSED' });
      expect(r.signatures[0]?.signer?.fingerprint256).toBe(cert.fingerprint256);
      expect(
        outcome(await verifyXadesDocument(signed.replace('Hello, world', 'Hello, World'), { trust })),
      ).toBe('TOTAL-FAILED/HASH_FAILURE');
      // The certificate the signer committed to replaced by another: no signing certificate found.
      const other = new X509Certificate(readFileSync(sharedTestPki().caCert));
      const swapped = signed.replace(
        /<ds:X509Certificate>[^<]+</,
        `<ds:X509Certificate>${other.raw.toString('base64')}<`,
      );
      expect(outcome(await verifyXadesDocument(swapped, { trust }))).toBe(
        'INDETERMINATE/NO_SIGNING_CERTIFICATE_FOUND',
      );
    });
  }

  it("C2's intake check of a sender's own seal (forwarded use) accepts this XAdES, and refuses it with RA02 after a one-character change", async () => {
    const { checkSenderSeal } = await import('../../src/api/sender-seal.js');
    const signed = Buffer.from(sign(template(1, false)));
    const part = (bytes: Buffer) => ({
      partId: 'invoice',
      contentType: 'application/xml',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
    });
    const check = (bytes: Buffer) =>
      checkSenderSeal('xades', [part(bytes)], async () => bytes, { trust, now: new Date() });
    const ok = await check(signed);
    expect(ok).toMatchObject({ ok: true });
    expect(ok.ok && ok.summary).toMatch(/sender XAdES seal \(B-B\) on invoice by .*Test foreign XAdES v1/);
    const refused = await check(Buffer.from(signed.toString('utf8').replace('Hello, world', 'Hello, World')));
    expect(refused).toMatchObject({ ok: false, reason: { code: 'RA02' } });
    expect(!refused.ok && refused.reason.details).toMatch(/SEAL_DIGEST_MISMATCH/);
  });

  it("evidence of another REM provider (XPath Filter 2.0, C14N 1.0, SigningCertificate v1) passes verifyEvidence through the seal's general path; one character changed: TOTAL-FAILED", async () => {
    const { buildEvidenceXml, verifyEvidence } = await import('../../src/evidence/index.js');
    const { evidenceSamples } = await import('../fixtures/evidence/load-samples.js');
    const evidence = buildEvidenceXml(evidenceSamples().SubmissionAcceptance).replace(/^<\?xml[^>]*>\s*/, '');
    const signature = template(1, false)
      .replace(/^<\?xml[^>]*>\s*/, '')
      .replace(
        '<ds:Reference URI="#content">',
        '<ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2002/06/xmldsig-filter2"><dsig-xpath:XPath xmlns:dsig-xpath="http://www.w3.org/2002/06/xmldsig-filter2" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Filter="subtract">/descendant::ds:Signature</dsig-xpath:XPath></ds:Transform></ds:Transforms>',
      )
      .replace(/<ds:Object Id="content">[^<]*<\/ds:Object>/, '');
    const at = evidence.lastIndexOf('</');
    const signed = sign(`${evidence.slice(0, at)}${signature}${evidence.slice(at)}`);
    const r = await verifyEvidence(signed, { trust });
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(r.indication).toBe('TOTAL-PASSED');
    expect(r.evidence?.id).toBe('ev-000001');
    expect(r.seal?.findings.map((f) => f.code)).toContain('SEAL_FOREIGN_FORM');
    const changed = await verifyEvidence(signed.replace('ev-000001', 'ev-000002'), { trust });
    expect(changed.indication).toBe('TOTAL-FAILED');
  });

  it('SignedProperties that no reference covers (unsigned properties posing as signed): TOTAL-FAILED/FORMAT_FAILURE', async () => {
    const signed = sign(template(2, false).replace(/<ds:Reference URI="#sp"[\s\S]*?<\/ds:Reference>/, ''));
    const r = await verifyXadesDocument(signed, { trust });
    expect(r.signatures[0]?.signatureValueVerified).toBe(true);
    expect(outcome(r)).toBe('TOTAL-FAILED/FORMAT_FAILURE');
  });

  it('detached (Reference URI="doc.txt"): with the document TOTAL-PASSED through verifyAny (kind XAdES, --content); without it INDETERMINATE/SIGNED_DATA_NOT_FOUND; another document TOTAL-FAILED', async () => {
    const { verifyAny } = await import('../../src/evidence/index.js');
    const document = Buffer.from('the detached document\n');
    const signed = Buffer.from(sign(template(2, true), document));
    const ok = await verifyAny(signed, { trust, content: [document] });
    expect(ok).toMatchObject({ kind: 'XAdES', valid: true });
    expect(ok.words).toMatch(/^TOTAL-PASSED: XAdES document/);
    const missing = await verifyAny(signed, { trust });
    expect(missing.valid).toBe(false);
    expect(missing.words).toMatch(/^INDETERMINATE\/SIGNED_DATA_NOT_FOUND/);
    const other = await verifyAny(signed, { trust, content: [Buffer.from('the detached documenT\n')] });
    expect(other.words).toMatch(/^TOTAL-FAILED\/HASH_FAILURE/);
  });
});

describe('limits', () => {
  it('an XPath transform over a document of more than 20 000 elements is not evaluated: INDETERMINATE/SIG_CONSTRAINTS_FAILURE, not FAILED', async () => {
    const xml = `<Doc>${'<a/>'.repeat(20_001)}<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"><ds:XPath>not(ancestor-or-self::ds:Signature)</ds:XPath></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature></Doc>`;
    const r = await verifyXadesDocument(xml, { trust: createTrustStore([]) });
    expect(outcome(r)).toBe('INDETERMINATE/SIG_CONSTRAINTS_FAILURE');
    expect(r.findings.map((f) => f.message).join()).toMatch(/at most 20000 elements/);
  });
});

describe('our own seals through the general verifier', () => {
  it('sealXml output: TOTAL-PASSED as XAdES B-B; the node-set canonicalizer agrees with the xml-crypto one on every element', async () => {
    const { loadSigningIdentity } = await import('../../src/pki/index.js');
    const { sealXml } = await import('../../src/seal/index.js');
    const { sequentialIdGenerator } = await import('../../src/core/ids.js');
    const { canonicalize, parseXmlStrict } = await import('../../src/xml/index.js');
    const { c14nMethodOf, canonicalizeSubtree } = await import('../../src/xml/c14n-nodeset.js');
    const pki = sharedTestPki();
    const files = opensslEcSeal(pki, 'Test own seal via foreign verifier');
    const sealed = await sealXml(
      readFileSync(new URL('../fixtures/seal/sample-document.xml', import.meta.url), 'utf8'),
      {
        identity: loadSigningIdentity(files.certFile, files.keyFile),
        clock: { now: () => new Date() },
        idGenerator: sequentialIdGenerator(),
      },
    );
    const r = await verifyXadesDocument(sealed, { trust: loadTrustStore([pki.caCert, pki.caCrl]) });
    expect(r.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(r).toMatchObject({ kind: 'XAdES', indication: 'TOTAL-PASSED' });
    const doc = parseXmlStrict(sealed, 'BAD_REQUEST');
    const exc = c14nMethodOf('http://www.w3.org/2001/10/xml-exc-c14n#')!;
    const all = Array.from(doc.getElementsByTagName('*') as unknown as ArrayLike<Element>);
    expect(all.length).toBeGreaterThan(10);
    for (const el of all) expect(canonicalizeSubtree(el, exc)).toBe(canonicalize(el));
  });
});
