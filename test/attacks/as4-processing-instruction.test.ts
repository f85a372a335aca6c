import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Attachment } from '../../src/as4/index.js';
import { NS as AS4_NS } from '../../src/as4/model/namespaces.js';
import { buildUserMessageEnvelope } from '../../src/as4/message/envelope-build.js';
import { canonicalize, serializeXml as serializeAs4Xml } from '../../src/xml/index.js';
import { parseXml as parseAs4Xml } from '../../src/as4/message/xml-util.js';
import { signEnvelope } from '../../src/as4/security/ws-security-sign.js';
import { verifyEnvelope } from '../../src/as4/security/ws-security-verify.js';
import { sharedTestPki } from '../helpers/pki.js';
import { anchorTrustStore, sampleMessage, sealIdentity } from '../interop/as4-helpers.js';

/**
 * A processing instruction put into a signed SOAP Body (or a signed XML attachment) must break the signature, as
 * any other change of the received element does. The canonicalizer used to render a PI as its data, escaped like
 * text (xml-crypto tests `node.data` before the node type): `<?t abc?>` was digested as the text `abc`, so a Body
 * whose signed text was replaced by such a PI, or split around one, kept a valid signature although its bytes
 * were not what was signed; xmlsec1, which renders the PI as Exclusive C14N says (§2.3 of C14N 1.0: `<?target
 * data?>`), refused the same document. Checked here against xmlsec1 both ways.
 */
const pki = sharedTestPki();
const trust = anchorTrustStore(pki.caCert);
const NOTE_NS = 'urn:qerds-ap:test:note';

/** A UserMessage envelope whose Body holds `<n:note>` with `bodyText` (a raw XML fragment), signed by C2. */
function signedWithBody(bodyXml: string, attachments: readonly Attachment[] = []): string {
  const doc = buildUserMessageEnvelope(sampleMessage('pi@qerds', attachments));
  const body = doc.getElementsByTagNameNS(AS4_NS.soap12, 'Body')[0]!;
  const fragment = parseAs4Xml(`<n:note xmlns:n="${NOTE_NS}">${bodyXml}</n:note>`).documentElement!;
  body.appendChild(doc.importNode(fragment, true));
  signEnvelope(doc, attachments, sealIdentity(pki, 'c2'));
  return serializeAs4Xml(doc);
}

const ours = (xml: string, attachments: readonly Attachment[] = []) => {
  const r = verifyEnvelope(parseAs4Xml(xml), attachments, { trust });
  return { valid: r.valid, codes: r.findings.filter((f) => f.severity === 'error').map((f) => f.code) };
};

/** xmlsec1, handed the certificate of the BinarySecurityToken (it resolves no WS-Security token reference). */
function xmlsec(xml: string): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-as4-pi-'));
  const b64 = /<wsse:BinarySecurityToken[^>]*>([^<]+)</.exec(xml)?.[1] ?? '';
  writeFileSync(
    join(dir, 'signer.crt.pem'),
    `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`,
  );
  writeFileSync(join(dir, 'message.xml'), xml);
  const r = spawnSync(
    'xmlsec1',
    [
      '--verify',
      '--pubkey-cert-pem',
      join(dir, 'signer.crt.pem'),
      '--id-attr:Id',
      `${AS4_NS.eb}:Messaging`,
      '--id-attr:Id',
      `${AS4_NS.soap12}:Body`,
      join(dir, 'message.xml'),
    ],
    { encoding: 'utf8' },
  );
  return r.status === 0;
}

describe('a processing instruction in a signed SOAP Body', () => {
  const signed = signedWithBody('abc');

  it('control: the untouched message verifies, with ours and with xmlsec1', () => {
    expect(ours(signed)).toEqual({ valid: true, codes: [] });
    expect(xmlsec(signed)).toBe(true);
  });

  for (const [what, replacement] of [
    ['the signed text replaced by a PI carrying it as data', '<?t abc?>'],
    ['the signed text split around a PI', 'a<?t bc?>'],
    ['a PI inserted after the text', 'abc<?t?>'],
    ['a PI with data inserted before the text', '<?xml-stylesheet href="evil.xsl"?>abc'],
  ] as const) {
    it(`${what}: AS4_SIG_DIGEST_MISMATCH on the Body, as xmlsec1 says`, () => {
      const tampered = signed.replace(
        `<n:note xmlns:n="${NOTE_NS}">abc</n:note>`,
        `<n:note xmlns:n="${NOTE_NS}">${replacement}</n:note>`,
      );
      expect(tampered).not.toBe(signed);
      const r = ours(tampered);
      expect(r.valid).toBe(false);
      expect(r.codes).toContain('AS4_SIG_DIGEST_MISMATCH');
      expect(r.codes).not.toContain('AS4_SIG_STRUCTURE');
      expect(xmlsec(tampered)).toBe(false);
    });
  }

  it('a Body signed with a PI in it verifies with ours and xmlsec1 alike; the PI taken out (its data left as text) fails both', () => {
    const withPi = signedWithBody('a<?t bc?>');
    const body = parseAs4Xml(withPi).getElementsByTagNameNS(AS4_NS.soap12, 'Body')[0]!;
    expect(canonicalize(body)).toContain('<n:note xmlns:n="urn:qerds-ap:test:note">a<?t bc?></n:note>');
    expect(ours(withPi)).toEqual({ valid: true, codes: [] });
    expect(xmlsec(withPi)).toBe(true);
    const asText = withPi.replace('a<?t bc?>', 'abc');
    expect(ours(asText).codes).toContain('AS4_SIG_DIGEST_MISMATCH');
    expect(xmlsec(asText)).toBe(false);
  });
});

describe('a processing instruction in a signed XML attachment (SwA, where PIs are allowed)', () => {
  const attachment = (xml: string): Attachment[] => [
    { contentId: 'doc@qerds', contentType: 'application/xml', body: Buffer.from(xml) },
  ];

  it('the signed text replaced by a PI carrying it: the attachment digest no longer matches', () => {
    const signed = signedWithBody('x', attachment('<doc>abc</doc>'));
    expect(ours(signed, attachment('<doc>abc</doc>'))).toEqual({ valid: true, codes: [] });
    const r = ours(signed, attachment('<doc><?t abc?></doc>'));
    expect(r.valid).toBe(false);
    expect(r.codes).toContain('AS4_SIG_DIGEST_MISMATCH');
  });
});
