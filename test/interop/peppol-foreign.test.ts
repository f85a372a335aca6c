import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAs4Capture } from '../../src/as4/index.js';
import { isQerdsError } from '../../src/core/index.js';
import { requirePeppolApCertificate } from '../../src/access-point/peppol-peer-check.js';
import { verifySmpSignature } from '../../src/directory/smp-signature.js';
import {
  parseSbd,
  peppolApAnchorFiles,
  peppolSmpAnchorFiles,
  sbdhMismatches,
  type As4PeppolHeader,
} from '../../src/peppol/index.js';
import { loadTrustStore } from '../../src/pki/index.js';
import { qerdsInProcess } from '../helpers/cli.js';

/**
 * Foreign Peppol material (public test resources of phase4, peppol-commons, Oxalis; test/fixtures/peppol/foreign/README.md)
 * read by our readers. Where we and the other implementation disagree, an independent check decides: xmllint with the
 * SBDH 1.3 schema, xmlsec1 on the WS-Security signatures, openssl on the certificate paths, and the text of the Peppol
 * Business Message Envelope specification v2.0.
 */
const root = join(import.meta.dirname, '..', '..');
const fixtures = join(root, 'test', 'fixtures');
const foreign = join(fixtures, 'peppol', 'foreign');
const commons = (name: string) => join(foreign, 'peppol-commons', 'sbdh', name);
const as4Phase4 = (name: string) => join(fixtures, 'as4', 'foreign', 'phase4', name);
const SBDH_XSD = join(fixtures, 'peppol', 'sbdh', 'xsd', 'StandardBusinessDocumentHeader.xsd');
const tmp = () => mkdtempSync(join(tmpdir(), 'qerds-peppol-foreign-'));

/** Our reading of an SBD: the header, or the code and message it was refused with. */
function read(
  file: string,
):
  | { ok: true; header: ReturnType<typeof parseSbd>['header']; root: string }
  | { ok: false; code: string; message: string } {
  try {
    const parsed = parseSbd(readFileSync(file, 'utf8'));
    return { ok: true, header: parsed.header, root: parsed.businessMessage.localName };
  } catch (e) {
    if (!isQerdsError(e)) throw e;
    return { ok: false, code: e.code, message: e.message };
  }
}

const xmllint = (file: string) =>
  spawnSync('xmllint', ['--noout', '--schema', SBDH_XSD, file], { encoding: 'utf8' });

describe('peppol-commons SBDH samples (peppol-testfiles external/sbdh) read by src/peppol/sbdh.ts', () => {
  it('every good sample is read, with the values peppol-commons reads from it', () => {
    for (const name of [
      'good.xml',
      'good-v11.xml',
      'good-gxs1.xml',
      'good-order-with-qty-ph.xml',
      'good-to-9915-test.xml',
      'good-bis3-with-country_c1.xml',
      'good-hybrid-invoice.xml',
    ]) {
      const r = read(commons(name));
      expect(r, `${name}: ${JSON.stringify(r)}`).toMatchObject({ ok: true });
    }
    // PeppolSBDHDataReaderTest#testReadGoodV11 asserts these values of good-v11.xml.
    const v11 = read(commons('good-v11.xml'));
    expect(v11).toMatchObject({
      ok: true,
      root: 'Invoice',
      header: {
        sender: { value: '0088:7315458756324' },
        receiver: { value: '0088:4562458856624' },
        countryC1: 'AT',
        instanceIdentifier: '3739db04-7e4e-4c89-b170-c543dd252249',
        documentType: {
          scheme: 'busdox-docid-qns',
          value:
            'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1',
        },
        process: { scheme: 'ptype', value: 'urn:www.cenbii.eu:profile:bii04:ver1.0' },
      },
    });
    expect(v11.ok && v11.header.creationTime.toISOString()).toBe('2013-02-19T05:10:10.000Z');
  });

  it('a non-XML payload (Envelope v2.0 §2.3 BinaryContent, a Factur-X PDF) is read without comparing Standard/Type/TypeVersion to a root it does not have', () => {
    const r = read(commons('good-hybrid-invoice.xml'));
    expect(r).toMatchObject({
      ok: true,
      root: 'BinaryContent',
      header: { standard: 'urn:peppol:doctype:pdf+xml', typeVersion: '0', documentType: { version: 'D22B' } },
    });
    expect(xmllint(commons('good-hybrid-invoice.xml')).status).toBe(0);
  });

  // peppol-commons' code (PeppolSBDHDataReaderTest BAD_CASES) beside ours, and the reason we give.
  const bad: readonly (readonly [file: string, theirs: string, ours: string, reason: RegExp])[] = [
    [
      'bad-no-xml.txt',
      'INVALID_SBD_XML',
      'PEPPOL_SBDH_MALFORMED',
      /not well-formed XML \(text before the root element/,
    ],
    [
      'bad-no-sbdh.xml',
      'MISSING_SBDH',
      'PEPPOL_SBDH_MALFORMED',
      /first element of the StandardBusinessDocument must be its StandardBusinessDocumentHeader/,
    ],
    [
      'bad-too-many-senders.xml',
      'INVALID_SENDER_COUNT',
      'PEPPOL_SBDH_SENDER_INVALID',
      /exactly one Sender in StandardBusinessDocumentHeader, found 2/,
    ],
    [
      'bad-invalid-sender-authority.xml',
      'INVALID_SENDER_AUTHORITY',
      'PEPPOL_SBDH_SENDER_INVALID',
      /Sender\/Identifier\/@Authority must be iso6523-actorid-upis, not "humpty dumpty"/,
    ],
    [
      'bad-invalid-sender-value.xml',
      'INVALID_SENDER_VALUE',
      'PEPPOL_SBDH_SENDER_INVALID',
      /Sender\/Identifier "" is not a Peppol participant identifier/,
    ],
    [
      'bad-too-few-receivers.xml',
      'INVALID_SBD_XML',
      'PEPPOL_SBDH_RECEIVER_INVALID',
      /exactly one Receiver in StandardBusinessDocumentHeader, found 0/,
    ],
    [
      'bad-invalid-receiver-value.xml',
      'INVALID_RECEIVER_VALUE',
      'PEPPOL_SBDH_RECEIVER_INVALID',
      /Receiver\/Identifier "" is not a Peppol participant identifier/,
    ],
    [
      'bad-too-few-scopes.xml',
      'INVALID_SCOPE_COUNT',
      'PEPPOL_SBDH_COUNTRY_C1_INVALID',
      /exactly one BusinessScope\/Scope of type COUNTRY_C1, found 0/,
    ],
    [
      'bad-invalid-document-type-identifier.xml',
      'INVALID_DOCUMENT_TYPE_IDENTIFIER',
      'PEPPOL_SBDH_DOCTYPE_INVALID',
      /DOCUMENTID "" is not a Peppol document type/,
    ],
    [
      'bad-invalid-process-identifier.xml',
      'INVALID_PROCESS_IDENTIFIER',
      'PEPPOL_SBDH_PROCESS_INVALID',
      /PROCESSID "" is not a Peppol process/,
    ],
    [
      'bad-mls-type-empty.xml',
      'INVALID_SBD_XML',
      'PEPPOL_SBDH_MALFORMED',
      /exactly one InstanceIdentifier in Scope, found 0/,
    ],
    [
      'bad-mls-to-empty.xml',
      'INVALID_SBD_XML',
      'PEPPOL_SBDH_MALFORMED',
      /exactly one InstanceIdentifier in Scope, found 0/,
    ],
    [
      'bad-mls-to-no-value.xml',
      'INVALID_SBD_XML',
      'PEPPOL_SBDH_MALFORMED',
      /exactly one InstanceIdentifier in Scope, found 0/,
    ],
  ];
  for (const [file, theirs, ours, reason] of bad) {
    it(`${file}: refused (peppol-commons ${theirs}), ours ${ours}`, () => {
      expect(read(commons(file))).toMatchObject({
        ok: false,
        code: ours,
        message: expect.stringMatching(reason),
      });
    });
  }

  it('the SBDH 1.3 schema (xmllint) refuses the MLS scopes without InstanceIdentifier too: the element is 1..1 there and in the Envelope v2.0', () => {
    for (const file of ['bad-mls-to-empty.xml', 'bad-mls-to-no-value.xml', 'bad-mls-type-empty.xml']) {
      const r = xmllint(commons(file));
      expect(r.status, file).not.toBe(0);
      expect(r.stderr).toMatch(
        /Expected is \( \{http:\/\/www\.unece\.org\/cefact\/namespaces\/StandardBusinessDocumentHeader\}InstanceIdentifier \)/,
      );
    }
  });
});

describe("phase4's SBD (the one its Peppol sender tests send)", () => {
  const file = join(foreign, 'phase4', 'base-sbdh.xml');
  const as4: As4PeppolHeader = {
    originalSender: '9915:phase4-test-sender',
    finalRecipient: '9915:helger',
    service: 'urn:fdc:peppol.eu:2017:poacc:billing:01:1.0',
    action:
      'busdox-docid-qns::urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1',
  };

  it('is read, valid against the SBDH schema, and agrees with the AS4 header phase4 would send with it', () => {
    const r = read(file);
    expect(r).toMatchObject({
      ok: true,
      root: 'Invoice',
      header: {
        sender: { value: '9915:phase4-test-sender' },
        receiver: { value: '9915:helger' },
        countryC1: 'GB',
        instanceIdentifier: '123456789',
        process: { scheme: 'cenbii-procid-ubl', value: as4.service },
      },
    });
    expect(xmllint(file).status).toBe(0);
    expect(sbdhMismatches((r as { header: Parameters<typeof sbdhMismatches>[0] }).header, as4)).toEqual([]);
  });

  it('another finalRecipient or Action in the AS4 header: each mismatch named', () => {
    const { header } = parseSbd(readFileSync(file, 'utf8'));
    const found = sbdhMismatches(header, {
      ...as4,
      finalRecipient: '9915:someone-else',
      action: as4.action.replace('::2.1', '::2.0'),
    });
    expect(found.map((m) => m.code)).toEqual([
      'PEPPOL_SBDH_RECEIVER_MISMATCH',
      'PEPPOL_SBDH_DOCTYPE_MISMATCH',
    ]);
  });
});

describe('Oxalis SBDs (before the Envelope v2.0): refused, each for its first fault', () => {
  it('Oxalis-AS4 simple-sbd.xml and oxalis sample-sbd-with-asic.xml: no COUNTRY_C1 scope (mandatory since v2.0; peppol-commons refuses them alike, MISSING_COUNTRY_C1)', () => {
    for (const file of ['oxalis-as4-simple-sbd.xml', 'sample-sbd-with-asic.xml']) {
      expect(read(join(foreign, 'oxalis', file)), file).toMatchObject({
        ok: false,
        code: 'PEPPOL_SBDH_COUNTRY_C1_INVALID',
        message: expect.stringMatching(/COUNTRY_C1, found 0/),
      });
    }
  });

  it('Oxalis-AS4 cef-sbd.xml (the CEF connectivity-test envelope): a Sender without the Peppol Authority', () => {
    expect(read(join(foreign, 'oxalis', 'oxalis-as4-cef-sbd.xml'))).toMatchObject({
      ok: false,
      code: 'PEPPOL_SBDH_SENDER_INVALID',
      message: 'Sender/Identifier/@Authority must be iso6523-actorid-upis, not ""',
    });
  });

  it('oxalis peppol-bis-invoice-sbdh.xml: CreationDateAndTime without a time zone, which the Envelope v2.0 says MUST be there (peppol-commons accepts it; the schema type xs:dateTime does too)', () => {
    const file = join(foreign, 'oxalis', 'peppol-bis-invoice-sbdh.xml');
    expect(read(file)).toMatchObject({
      ok: false,
      code: 'PEPPOL_SBDH_CREATION_TIME_INVALID',
      message: 'CreationDateAndTime "2013-02-19T05:10:10" is not an xs:dateTime with a time zone',
    });
    expect(xmllint(file).status).toBe(0);
  });
});

/** The certificate of the message's wsse:BinarySecurityToken, as a PEM file. */
function bstCertFile(xml: string): string {
  const b64 = /BinarySecurityToken[^>]*>([^<]+)</.exec(xml)?.[1];
  if (!b64) throw new Error('no BinarySecurityToken');
  const file = join(tmp(), 'bst.crt.pem');
  writeFileSync(file, new X509Certificate(Buffer.from(b64.replace(/\s+/g, ''), 'base64')).toString());
  return file;
}

// libxml2 knows no ID attributes without a DTD: which attribute named Id identifies eb:Messaging and the SOAP 1.2 Body.
const ID_ATTRS = [
  '--id-attr:Id',
  'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/:Messaging',
  '--id-attr:Id',
  'http://www.w3.org/2003/05/soap-envelope:Body',
];

/**
 * xmlsec1 1.2.37 on the SOAP envelope of a capture (the bytes after the HTTP headers). It resolves no WS-Security
 * token reference: it gets the BinarySecurityToken's certificate, which `openssl verify` checks against the
 * Peppol AP test CAs at `attime` (seconds since 1970).
 */
function independentCheck(
  capture: string,
  attime: number,
): { chain: boolean; signature: boolean; output: string } {
  const bytes = readFileSync(capture);
  const xml = bytes.subarray(bytes.indexOf('<')).toString('utf8');
  const dir = tmp();
  writeFileSync(join(dir, 'envelope.xml'), xml);
  const cert = bstCertFile(xml);
  const anchors = join(dir, 'peppol-ap-test-cas.pem');
  writeFileSync(
    anchors,
    peppolApAnchorFiles({ network: 'test' })
      .map((f) => readFileSync(f, 'utf8'))
      .join(''),
  );
  const chain = spawnSync(
    'openssl',
    ['verify', '-partial_chain', '-attime', String(attime), '-CAfile', anchors, cert],
    { encoding: 'utf8' },
  );
  const sig = spawnSync(
    'xmlsec1',
    ['--verify', '--pubkey-cert-pem', cert, ...ID_ATTRS, join(dir, 'envelope.xml')],
    { encoding: 'utf8' },
  );
  return {
    chain: chain.status === 0,
    signature: sig.status === 0,
    output: `${chain.stdout}${chain.stderr}${sig.stdout}${sig.stderr}`,
  };
}

describe('signed Peppol AS4 receipts and a UserMessage of other APs, verified offline with the Peppol PKI anchors', () => {
  const testAnchors = () => loadTrustStore(peppolApAnchorFiles({ network: 'test' }));
  const productionAnchors = () => loadTrustStore(peppolApAnchorFiles({ network: 'production' }));
  const sentAt = new Date('2022-03-07T17:45:00Z');
  const receipts = [
    { name: 'phase4 (POP000306)', file: as4Phase4('helger.as4in'), signer: 'CN=POP000306' },
    { name: 'Governikus (POP000260)', file: as4Phase4('governikus.as4in'), signer: 'CN=POP000260' },
    {
      name: 'Holodeck B2B / Dataport (PDE000357)',
      file: join(foreign, 'phase4', 'dataport1-mustunderstand.as4in'),
      signer: 'CN=PDE000357',
    },
  ];

  for (const r of receipts) {
    it(`${r.name}: at the time sent, signature and path to the Peppol AP TEST CA - G2 hold, revocation unknown (no Peppol CRL offline): INDETERMINATE, never VALID`, () => {
      const report = verifyAs4Capture(readFileSync(r.file), { trust: testAnchors(), at: sentAt });
      expect(report.messageType).toBe('Receipt');
      expect(report.signature?.signer?.subject).toContain(r.signer);
      expect(report.signature?.signer?.issuer).toContain('CN=PEPPOL ACCESS POINT TEST CA - G2');
      expect(report.signature?.signedParts).toEqual(expect.arrayContaining(['Messaging', 'Body']));
      expect(report.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toEqual([
        'SIGNER_REVOCATION_UNKNOWN',
      ]);
      expect(report.verdict).toBe('INDETERMINATE');
      const check = independentCheck(r.file, Math.floor(sentAt.getTime() / 1000));
      expect(check, check.output).toMatchObject({ chain: true, signature: true });
    });

    it(`${r.name}: today its G2 certificate has expired and nothing proves the receipt older: INDETERMINATE (OUT_OF_BOUNDS_NO_POE), not INVALID`, () => {
      const report = verifyAs4Capture(readFileSync(r.file), {
        trust: testAnchors(),
        at: new Date('2026-12-01T00:00:00Z'),
      });
      expect(report.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toEqual([
        'SIGNER_OUT_OF_BOUNDS_NO_POE',
      ]);
      expect(report.findings.find((f) => f.code === 'SIGNER_OUT_OF_BOUNDS_NO_POE')?.message).toMatch(
        /expired on 20\d\d-\d\d-\d\dT23:59:59\.000Z; nothing in a capture proves it was signed earlier/,
      );
      expect(report.verdict).toBe('INDETERMINATE');
    });

    it(`${r.name}: under the production anchors: INVALID, no path (a test AP is not a production AP)`, () => {
      const report = verifyAs4Capture(readFileSync(r.file), { trust: productionAnchors(), at: sentAt });
      expect(report.verdict).toBe('INVALID');
      expect(report.findings.find((f) => f.code === 'AS4_SIG_UNTRUSTED')?.message).toMatch(
        /no path from .* to a trust anchor/,
      );
    });
  }

  it("BTC AG's receipt (PDE000576, G3, still valid) that phase4's mock servlet answers with: signature and path hold today; only revocation is unknown — INDETERMINATE, and xmlsec1 + openssl agree on signature and path", () => {
    const file = join(foreign, 'phase4', 'TestReceipt12.xml');
    const at = new Date('2026-12-01T00:00:00Z');
    const report = verifyAs4Capture(readFileSync(file), { trust: testAnchors(), at });
    expect(report).toMatchObject({
      messageType: 'Receipt',
      soapVersion: '1.2',
      refToMessageId: '035e0a83-6dc5-427b-bcee-483475c65153@phase4',
    });
    expect(report.signature?.signer?.subject).toBe('C=DE, O=BTC AG, OU=PEPPOL TEST AP, CN=PDE000576');
    expect(report.signature?.signedParts).toEqual(expect.arrayContaining(['Messaging', 'Body']));
    expect(report.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toEqual([
      'SIGNER_REVOCATION_UNKNOWN',
    ]);
    expect(report.verdict).toBe('INDETERMINATE');
    const check = independentCheck(file, Math.floor(at.getTime() / 1000));
    expect(check, check.output).toMatchObject({ chain: true, signature: true });
  });

  it("phase4's forgery samples: a made-up SignatureMethod, a made-up DigestMethod — INVALID naming the algorithm (xmlsec1 refuses both too)", () => {
    for (const [name, reason] of [
      ['WrongSigningAlgorithm.xml', 'SignatureMethod not supported: http://www.randomcrypt.com/random'],
      [
        'WrongSigningDigestAlgorithm.xml',
        'DigestMethod not supported: http://www.randomdigest.com/randomdigest',
      ],
    ] as const) {
      const file = join(foreign, 'phase4', name);
      const report = verifyAs4Capture(readFileSync(file), {
        trust: testAnchors(),
        at: new Date('2016-06-01T00:00:00Z'),
      });
      expect(report.verdict, name).toBe('INVALID');
      expect(report.findings.find((f) => f.code === 'AS4_SIG_ALGORITHM')?.message, name).toContain(reason);
      expect(
        independentCheck(file, Math.floor(Date.parse('2016-06-01T00:00:00Z') / 1000)).signature,
        name,
      ).toBe(false);
    }
  });

  it("dataport1.as4in (the same receipt with one attribute's prefix changed): INVALID, eb:Messaging digest mismatch — and xmlsec1 agrees", () => {
    const report = verifyAs4Capture(readFileSync(as4Phase4('dataport1.as4in')), {
      trust: testAnchors(),
      at: sentAt,
    });
    expect(report.verdict).toBe('INVALID');
    expect(report.findings.map((f) => f.code)).toEqual(
      expect.arrayContaining(['AS4_SIG_DIGEST_MISMATCH', 'AS4_SIG_NOT_COVERED']),
    );
    const check = independentCheck(as4Phase4('dataport1.as4in'), Math.floor(sentAt.getTime() / 1000));
    expect(check.chain).toBe(true);
    expect(check.signature, check.output).toBe(false);
    expect(check.output).toMatch(/SignedInfo References \(ok\/all\): 0\/1/);
  });

  it("phase4's signed, compressed, encrypted UserMessage (G3 certificate, 2026): signer chains to AP TEST CA - G3; without the key the payload is not checked, revocation unknown: INDETERMINATE", () => {
    const report = verifyAs4Capture(readFileSync(as4Phase4('dump-raw.as4out')), {
      trust: testAnchors(),
      at: new Date('2026-01-29T15:40:00Z'),
    });
    expect(report.messageType).toBe('UserMessage');
    expect(report.signature?.signer?.issuer).toContain('CN=PEPPOL ACCESS POINT TEST CA - G3');
    expect(
      report.findings
        .filter((f) => f.severity === 'error')
        .map((f) => f.code)
        .sort(),
    ).toEqual(['AS4_ATTACHMENT_NOT_CHECKED', 'SIGNER_REVOCATION_UNKNOWN']);
    expect(report.verdict).toBe('INDETERMINATE');
    const onlyG2 = verifyAs4Capture(readFileSync(as4Phase4('dump-raw.as4out')), {
      trust: loadTrustStore(peppolApAnchorFiles({ network: 'test', generations: ['G2'] })),
      at: new Date('2026-01-29T15:40:00Z'),
    });
    expect(onlyG2.verdict).toBe('INVALID');
    expect(onlyG2.findings.map((f) => f.code)).toContain('AS4_SIG_UNTRUSTED');
  });
});

describe('signed SMP 1.x answers of production Peppol SMPs (peppol-commons smp-client test resources)', () => {
  const smp = (name: string) => readFileSync(join(fixtures, 'smp', name), 'utf8');
  const signerOf = (xml: string) =>
    new X509Certificate(
      Buffer.from(/<(?:\w+:)?X509Certificate>([^<]+)</.exec(xml)![1]!.replace(/\s+/g, ''), 'base64'),
    );
  const cases = [
    { name: 'signed-service-metadata1.xml', cn: 'CN=PNO000070', at: new Date('2020-06-01T00:00:00Z') },
    {
      name: 'signed-service-metadata3-c14n-inclusive.xml',
      cn: 'CN=PNL000052',
      at: new Date('2019-06-01T00:00:00Z'),
    },
  ];

  it('their signers chain to the Peppol SMP CA - G2 (production) and to no AP CA: an SMP certificate is no peer AP', async () => {
    for (const c of cases) {
      const signer = signerOf(smp(c.name));
      expect(signer.subject).toContain(c.cn);
      const smpPath = loadTrustStore(peppolSmpAnchorFiles({ network: 'production' })).validate(signer, {
        at: c.at,
      });
      expect(smpPath.valid, `${c.name}: ${JSON.stringify(smpPath.findings)}`).toBe(true);
      expect(
        loadTrustStore(peppolApAnchorFiles({ network: 'production' }))
          .validate(signer, { at: c.at })
          .findings.map((f) => f.code),
      ).toEqual(['PKI_PATH_NOT_FOUND']);
      await expect(
        requirePeppolApCertificate(signer, {
          trust: loadTrustStore(peppolApAnchorFiles({ network: 'production' })),
          network: 'production',
          at: c.at,
        }),
      ).rejects.toMatchObject({
        code: 'AS4_EBMS_0101',
        // Its OU (PEPPOL PRODUCTION SMP) refuses it before its path (none to an AP CA, above) is looked for.
        message: expect.stringMatching(/subject OU "PEPPOL PRODUCTION SMP" lacks PEPPOL PRODUCTION AP/),
      });
    }
  });

  it('our SMP reader, by default, refuses them for their SHA-1 digests (RSA-SHA1 is only for an explicit SMP policy switch)', () => {
    for (const c of cases) {
      expect(
        () =>
          verifySmpSignature(
            smp(c.name),
            loadTrustStore(peppolSmpAnchorFiles({ network: 'production' })),
            c.at,
          ),
        c.name,
      ).toThrow(
        expect.objectContaining({
          code: 'DIRECTORY_SMP_SIGNATURE_ALGORITHM',
          message: expect.stringMatching(/xmldsig#rsa-sha1.*directory\.smp\.allowRsaSha1/),
        }),
      );
    }
  });
});

// `qerds verify` in this process (its one real launch is in test/cli/verify-command.test.ts).
describe('qerds verify on a foreign Peppol receipt, with the shipped anchor directory as --trust', () => {
  it('--trust certs/peppol/ap-test --at <sent>: INDETERMINATE, exit 1, the signer and the reason in the report', async () => {
    const r = await qerdsInProcess([
      'verify',
      join(foreign, 'phase4', 'dataport1-mustunderstand.as4in'),
      '--trust',
      join(root, 'certs/peppol/ap-test'),
      '--at',
      '2022-03-07T17:45:00Z',
      '--json',
    ]);
    expect(r.status, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout) as {
      kind: string;
      verdict: string;
      messageType: string;
      signature: { signer: { subject: string } };
      findings: { code: string; severity: string }[];
    };
    expect(report).toMatchObject({ kind: 'as4-capture', verdict: 'INDETERMINATE', messageType: 'Receipt' });
    expect(report.signature.signer.subject).toContain('CN=PDE000357');
    expect(report.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toEqual([
      'SIGNER_REVOCATION_UNKNOWN',
    ]);
  });
});
