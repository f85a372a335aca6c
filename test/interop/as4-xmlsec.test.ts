import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NS as AS4_NS } from '../../src/as4/model/namespaces.js';
import { buildReceipt } from '../../src/as4/message/signals.js';
import { buildUserMessageEnvelope } from '../../src/as4/message/envelope-build.js';
import { parseXml as parseAs4Xml } from '../../src/as4/message/xml-util.js';
import { parseEnvelope } from '../../src/as4/message/envelope-parse.js';
import { serializeXml as serializeAs4Xml } from '../../src/xml/index.js';
import { signEnvelope } from '../../src/as4/security/ws-security-sign.js';
import { verifyEnvelope } from '../../src/as4/security/ws-security-verify.js';
import { foreignTestPki, sharedTestPki } from '../helpers/pki.js';
import { anchorTrustStore, sampleMessage, sealIdentity } from './as4-helpers.js';

const pki = sharedTestPki();
const fixtures = join(import.meta.dirname, '..', 'fixtures', 'as4');
// libxml2 knows no ID attributes without a DTD: tell xmlsec1 which attribute named Id (wsu:Id matches by
// local name) identifies eb:Messaging and the SOAP 1.2 Body.
const ID_ATTRS = ['--id-attr:Id', `${AS4_NS.eb}:Messaging`, '--id-attr:Id', `${AS4_NS.soap12}:Body`];
const tmp = () => mkdtempSync(join(tmpdir(), 'qerds-as4-xmlsec-'));

/** The certificate carried in the message's wsse:BinarySecurityToken, as a PEM file. */
function bstCertFile(xml: string): string {
  const b64 = /<wsse:BinarySecurityToken[^>]*>([^<]+)</.exec(xml)?.[1];
  if (!b64) throw new Error('no BinarySecurityToken');
  const file = join(tmp(), 'bst.crt.pem');
  writeFileSync(file, new X509Certificate(Buffer.from(b64, 'base64')).toString());
  return file;
}

/**
 * Verify with xmlsec1 1.2.37. It does not implement WS-Security token references, so KeyInfo's
 * wsse:SecurityTokenReference → BinarySecurityToken cannot be resolved by it: we hand it the certificate
 * taken out of that very BST (--pubkey-cert-pem), and check that certificate against the CA with
 * `openssl verify`, which together is what --trusted-pem would have checked.
 */
function xmlsecVerifyWss(
  xml: string,
  caCert = pki.caCert,
): { ok: boolean; chainOk: boolean; output: string } {
  const dir = tmp();
  const file = join(dir, 'receipt.xml');
  writeFileSync(file, xml);
  const cert = bstCertFile(xml);
  const chain = spawnSync('openssl', ['verify', '-CAfile', caCert, cert], { encoding: 'utf8' });
  const r = spawnSync('xmlsec1', ['--verify', '--pubkey-cert-pem', cert, ...ID_ATTRS, file], {
    encoding: 'utf8',
  });
  return {
    ok: chain.status === 0 && r.status === 0,
    chainOk: chain.status === 0,
    output: `${chain.stdout}${chain.stderr}${r.stdout}${r.stderr}`,
  };
}

/** Our receipt for a UserMessage from c2 of the shared PKI, signed by `receiver` (c3 of the shared PKI unless given). */
function makeReceipt(receiver = sealIdentity(pki, 'c3')): string {
  const doc = buildUserMessageEnvelope(sampleMessage('m-xmlsec@qerds', []));
  signEnvelope(doc, [], sealIdentity(pki, 'c2'));
  const incoming = parseAs4Xml(serializeAs4Xml(doc));
  const v = verifyEnvelope(incoming, [], { trust: anchorTrustStore(pki.caCert) });
  expect(v.valid).toBe(true);
  return serializeAs4Xml(buildReceipt(incoming, v.references, receiver));
}

const codes = (v: ReturnType<typeof verifyEnvelope>) => v.findings.map((f) => f.code);

describe('AS4 signatures checked by xmlsec1 (independent implementation)', () => {
  it('xmlsec1 verifies our signed receipt (Messaging + Body) and rejects it when one byte changes', () => {
    const receipt = makeReceipt();
    const good = xmlsecVerifyWss(receipt);
    expect(good.output).toContain('SignedInfo References (ok/all): 2/2');
    expect(good.ok).toBe(true);
    const tampered = receipt.replace(
      '<eb:RefToMessageId>m-xmlsec@qerds<',
      '<eb:RefToMessageId>m-xmlsec@qerdt<',
    );
    expect(tampered).not.toBe(receipt);
    expect(xmlsecVerifyWss(tampered).ok).toBe(false);
    const tamperedBody = receipt.replace(/(<env:Body[^>]*)\/>/, '$1>x</env:Body>');
    expect(tamperedBody).not.toBe(receipt);
    expect(xmlsecVerifyWss(tamperedBody).ok).toBe(false);
  });

  it('a receipt signed by a certificate outside the CA: we refuse it (AS4_SIG_UNTRUSTED) as xmlsec1 + openssl do, though its signature is intact', () => {
    const receipt = makeReceipt(sealIdentity(foreignTestPki(), 'c3'));
    const ours = verifyEnvelope(parseAs4Xml(receipt), [], { trust: anchorTrustStore(pki.caCert) });
    expect(ours.valid).toBe(false);
    expect(codes(ours)).toEqual(['AS4_SIG_UNTRUSTED']);
    const theirs = xmlsecVerifyWss(receipt);
    expect(theirs.output).toContain('SignedInfo References (ok/all): 2/2');
    expect(theirs.chainOk).toBe(false);
    expect(theirs.ok).toBe(false);
    // Trusting the foreign CA instead, both accept the same bytes: the refusal above was about trust alone.
    expect(
      verifyEnvelope(parseAs4Xml(receipt), [], { trust: anchorTrustStore(foreignTestPki().caCert) }).valid,
    ).toBe(true);
    expect(xmlsecVerifyWss(receipt, foreignTestPki().caCert).ok).toBe(true);
  });

  for (const fixture of ['xmlsec-user-message.tmpl.xml', 'xmlsec-user-message-prefixlist.tmpl.xml']) {
    it(`verifies a signature made by xmlsec1 (${fixture}) and detects tampering`, () => {
      const dir = tmp();
      const template = join(dir, 'tmpl.xml');
      writeFileSync(template, readFileSync(join(fixtures, fixture)));
      const c2 = pki.ap('c2');
      const signed = execFileSync(
        'xmlsec1',
        ['--sign', '--privkey-pem', `${c2.sealKey},${c2.sealCert}`, ...ID_ATTRS, template],
        { encoding: 'utf8' },
      );
      const expectedCertificate = new X509Certificate(readFileSync(c2.sealCert));
      const result = verifyEnvelope(parseAs4Xml(signed), [], {
        expectedCertificate,
        trust: anchorTrustStore(pki.caCert),
      });
      expect(result.findings).toEqual([]);
      expect(result.valid).toBe(true);
      expect(result.signedParts).toEqual(['Messaging', 'Body']);
      const parsed = parseEnvelope(signed);
      expect(parsed.kind).toBe('user');
      const tampered = signed.replace('<eb:Action>Deliver<', '<eb:Action>Deliver2<');
      const afterTampering = verifyEnvelope(parseAs4Xml(tampered), [], { expectedCertificate });
      expect(afterTampering.valid).toBe(false);
      expect(codes(afterTampering)).toContain('AS4_SIG_DIGEST_MISMATCH');
      const otherSigner = new X509Certificate(readFileSync(pki.ap('c3').sealCert));
      const byOther = verifyEnvelope(parseAs4Xml(signed), [], { expectedCertificate: otherSigner });
      expect(byOther.valid).toBe(false);
      expect(codes(byOther)).toEqual(['AS4_SIG_UNEXPECTED_SIGNER']);
    });
  }
});
