import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isQerdsError, type ParticipantId } from '../../src/core/index.js';
import { createSmpDirectory, readServiceMetadata, verifySmpSignature } from '../../src/directory/index.js';
import { loadTrustStore, type DevPkiLayout, type TrustStore } from '../../src/pki/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { opensslEcSeal, xmlsecSign, xmlsecVerify } from '../helpers/xmlsec.js';
import {
  answerValues,
  C14N,
  EXC_C14N,
  metadataTemplate,
  startSmpResponder,
  type MetadataValues,
  type SmpResponder,
} from './smp-fixtures.js';

/**
 * The XMLDSig of an SMP answer as an independent signer (xmlsec1, libxml2: XML 1.0) makes it, checked on the one
 * DOM the SMP reader parses: XML 1.0 line ends (U+0085 and U+2028 are characters, not line ends), the
 * canonicalization of SignedInfo (C14N 1.0 or exclusive C14N only, with its InclusiveNamespaces PrefixList),
 * the reference's exclusive C14N PrefixList, and ECDSA values (r || s).
 */

const RECIPIENT: ParticipantId = { scheme: '0188', value: '5011001088888' };
const DOC = {
  scheme: 'busdox-docid-qns',
  value: 'urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##urn:cen.eu:en16931:2017::2.1',
};
const PATH = `/${encodeURIComponent('iso6523-actorid-upis::0188:5011001088888')}/services/${encodeURIComponent(`${DOC.scheme}::${DOC.value}`)}`;
/** A description with NEL (U+0085) and LINE SEPARATOR (U+2028) raw: line ends in XML 1.1, characters in XML 1.0. */
const DESCRIPTION = 'Test Works LLC\u0085AS4 access point\u2028C3';

let pki: DevPkiLayout;
let trust: TrustStore;
let signer: { keyFile: string; certFile: string };
let values: MetadataValues;
let smp: SmpResponder;

const sign = (template: string, by = signer) => xmlsecSign(template, by.keyFile, by.certFile);

function code(run: () => unknown): string {
  try {
    run();
    return 'VALID';
  } catch (error) {
    if (isQerdsError(error)) return `${error.code}: ${error.message}`;
    throw error;
  }
}

beforeAll(async () => {
  pki = sharedTestPki();
  trust = loadTrustStore([pki.caCert]);
  signer = { keyFile: pki.ap('c2').sealKey, certFile: pki.ap('c2').sealCert };
  values = answerValues('0188:5011001088888', DOC, readFileSync(pki.ap('c3').sealCert, 'utf8'));
  smp = await startSmpResponder();
});

afterAll(async () => {
  await smp?.close();
});

describe('XML 1.0 line ends in the signed content', () => {
  for (const c14n of [undefined, EXC_C14N] as const) {
    it(`U+0085 and U+2028 held raw in a ServiceDescription: the answer xmlsec1 signed verifies and its endpoint is read (${c14n ? 'exclusive' : 'inclusive'} C14N)`, async () => {
      const signed = sign(
        metadataTemplate('smp1', { ...values, ...(c14n ? { c14n } : {}) }).replace(
          'Test Works LLC, AS4 access point C3',
          DESCRIPTION,
        ),
      );
      // xmlsec1 wrote them as they are (UTF-8), and verifies its own signature over them.
      expect(signed).toContain(`>${DESCRIPTION}<`);
      expect(xmlsecVerify(signed, pki.caCert)).toMatchObject({ ok: true });

      const check = verifySmpSignature(signed, trust, new Date());
      const metadata = readServiceMetadata(check.signedDocument);
      expect(metadata.processes[0]?.endpoints[0]?.address).toBe('https://c3.example/as4');
      expect(check.signedDocument.documentElement!.textContent).toContain(DESCRIPTION);

      smp.publish(PATH, signed);
      const entry = await createSmpDirectory({ baseUrl: smp.url, trust, documentTypeId: DOC }).lookup(
        RECIPIENT,
      );
      expect(entry?.endpoint).toBe('https://c3.example/as4');

      // Each of them is signed content: as a line feed (what XML 1.1 would read), or gone, the digest fails.
      for (const tampered of [
        signed.replace('\u2028', '\n'),
        signed.replace('\u0085', '\n'),
        signed.replace('\u0085', ''),
      ]) {
        expect(tampered).not.toBe(signed);
        expect(code(() => verifySmpSignature(tampered, trust, new Date()))).toMatch(
          /^DIRECTORY_SMP_SIGNATURE_INVALID: .*does not verify/,
        );
      }
    });
  }
});

describe('SignedInfo canonicalization', () => {
  it('C14N 1.1 (xmlsec1 signs and verifies it) is refused: only C14N 1.0 and exclusive C14N 1.0', () => {
    const c14n11 = 'http://www.w3.org/2006/12/xml-c14n11';
    const signed = sign(
      metadataTemplate('smp1', values).replace(
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>',
        `<ds:CanonicalizationMethod Algorithm="${c14n11}"/>`,
      ),
    );
    expect(signed).toContain(c14n11);
    expect(xmlsecVerify(signed, pki.caCert)).toMatchObject({ ok: true });
    expect(code(() => verifySmpSignature(signed, trust, new Date()))).toBe(
      `DIRECTORY_SMP_SIGNATURE_INVALID: the SignedInfo canonicalization ${c14n11} is not accepted (C14N 1.0 or exclusive C14N 1.0, without comments)`,
    );
  });

  it('XPath, an unknown URI, C14N with comments or none at all are refused, naming the method', () => {
    const signed = sign(metadataTemplate('smp1', values));
    expect(code(() => verifySmpSignature(signed, trust, new Date()))).toBe('VALID');
    const method = /<ds:CanonicalizationMethod Algorithm="[^"]*"\/>/;
    for (const uri of [
      'http://www.w3.org/TR/1999/REC-xpath-19991116',
      'urn:example:unknown-c14n',
      'http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments',
      'http://www.w3.org/2001/10/xml-exc-c14n#WithComments',
    ]) {
      const changed = signed.replace(method, `<ds:CanonicalizationMethod Algorithm="${uri}"/>`);
      expect(changed).toContain(uri);
      expect(code(() => verifySmpSignature(changed, trust, new Date()))).toBe(
        `DIRECTORY_SMP_SIGNATURE_INVALID: the SignedInfo canonicalization ${uri} is not accepted (C14N 1.0 or exclusive C14N 1.0, without comments)`,
      );
    }
    expect(code(() => verifySmpSignature(signed.replace(method, ''), trust, new Date()))).toBe(
      'DIRECTORY_SMP_SIGNATURE_INVALID: the SignedInfo canonicalization (none) is not accepted (C14N 1.0 or exclusive C14N 1.0, without comments)',
    );
  });
});

describe('exclusive C14N with an InclusiveNamespaces PrefixList', () => {
  it('on the reference transform and on SignedInfo: verifies; the lists are part of what is signed', () => {
    const inclusive = (prefixes: string) =>
      `<ec:InclusiveNamespaces xmlns:ec="${EXC_C14N}" PrefixList="${prefixes}"/>`;
    // wsa and id are declared on the document element but used deeper; smp is in scope on SignedInfo, unused.
    const template = metadataTemplate('peppol', { ...values, c14n: EXC_C14N })
      .replace(
        `<ds:CanonicalizationMethod Algorithm="${EXC_C14N}"/>`,
        `<ds:CanonicalizationMethod Algorithm="${EXC_C14N}">${inclusive('smp')}</ds:CanonicalizationMethod>`,
      )
      .replace(
        `<ds:Transform Algorithm="${EXC_C14N}"/>`,
        `<ds:Transform Algorithm="${EXC_C14N}">${inclusive('wsa id')}</ds:Transform>`,
      );
    expect(template).toContain('PrefixList="wsa id"');
    const signed = sign(template);
    expect(xmlsecVerify(signed, pki.caCert)).toMatchObject({ ok: true });
    const check = verifySmpSignature(signed, trust, new Date());
    // The signed document as exclusive C14N with the list wrote it: wsa declared on the document element.
    expect(check.signedDocument.documentElement!.getAttribute('xmlns:wsa')).toBe(
      'http://www.w3.org/2005/08/addressing',
    );
    expect(readServiceMetadata(check.signedDocument).processes[0]?.endpoints[0]?.address).toBe(
      'https://c3.example/as4',
    );
  });
});

describe('Reference transforms', () => {
  const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
  const transform = (uri: string) => `<ds:Transform Algorithm="${uri}"/>`;
  const withTransforms = (xml: string, uris: readonly string[]) =>
    xml.replace(
      /<ds:Transforms>[\s\S]*?<\/ds:Transforms>/,
      `<ds:Transforms>${uris.map(transform).join('')}</ds:Transforms>`,
    );

  it('enveloped-signature then an explicit C14N 1.0: verifies', () => {
    const signed = sign(withTransforms(metadataTemplate('smp1', values), [ENVELOPED, C14N]));
    expect(signed).toContain(transform(C14N));
    expect(code(() => verifySmpSignature(signed, trust, new Date()))).toBe('VALID');
  });

  it('any other sequence of the accepted transforms is refused: enveloped-signature first, then at most one C14N', () => {
    const signed = sign(metadataTemplate('smp1', values));
    for (const uris of [
      [EXC_C14N, ENVELOPED],
      [ENVELOPED, ENVELOPED],
      [ENVELOPED, C14N, EXC_C14N],
    ]) {
      expect(code(() => verifySmpSignature(withTransforms(signed, uris), trust, new Date()))).toBe(
        `DIRECTORY_SMP_SIGNATURE_INVALID: unsupported transforms: ${uris.join(', ')} (the enveloped-signature transform, then at most one C14N or exclusive C14N)`,
      );
    }
  });
});

describe('ECDSA', () => {
  it('an answer xmlsec1 signed with ECDSA-SHA256 (r || s) verifies; altered, it does not', () => {
    const ec = opensslEcSeal(pki, 'Test SMP EC signer');
    const signed = sign(
      metadataTemplate('smp1', values).replace(
        'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
        'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
      ),
      ec,
    );
    expect(signed).toContain('#ecdsa-sha256');
    const check = verifySmpSignature(signed, trust, new Date());
    expect(check.signer.subject).toContain('CN=Test SMP EC signer');
    expect(
      code(() =>
        verifySmpSignature(
          signed.replace('https://c3.example/as4', 'https://attacker.example/as4'),
          trust,
          new Date(),
        ),
      ),
    ).toMatch(/^DIRECTORY_SMP_SIGNATURE_INVALID: .*does not verify/);
  });
});

describe('what URI="" covers', () => {
  it('comments are not signed (XMLDSig: a same-document reference is without comments): one added inside still verifies', () => {
    const signed = sign(metadataTemplate('smp1', values));
    const commented = signed.replace('<ProcessList>', '<ProcessList><!-- added after signing -->');
    expect(commented).not.toBe(signed);
    expect(code(() => verifySmpSignature(commented, trust, new Date()))).toBe('VALID');
  });
});
