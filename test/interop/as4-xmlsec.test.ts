import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AS4_NS, buildReceipt, buildUserMessageEnvelope, parseAs4Xml, parseEnvelope, serializeAs4Xml, signEnvelope, verifyEnvelope } from '../../src/as4/index.js';
import { sharedTestPki } from '../helpers/pki.js';
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
function xmlsecVerifyWss(xml: string): { ok: boolean; output: string } {
  const dir = tmp();
  const file = join(dir, 'receipt.xml');
  writeFileSync(file, xml);
  const cert = bstCertFile(xml);
  const chain = spawnSync('openssl', ['verify', '-CAfile', pki.caCert, cert], { encoding: 'utf8' });
  if (chain.status !== 0) return { ok: false, output: chain.stdout + chain.stderr };
  const r = spawnSync('xmlsec1', ['--verify', '--pubkey-cert-pem', cert, ...ID_ATTRS, file], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

function makeReceipt(): string {
  const doc = buildUserMessageEnvelope(sampleMessage('m-xmlsec@qerds', []));
  signEnvelope(doc, [], sealIdentity(pki, 'c2'));
  const incoming = parseAs4Xml(serializeAs4Xml(doc));
  const v = verifyEnvelope(incoming, [], { trust: anchorTrustStore(pki.caCert) });
  expect(v.valid).toBe(true);
  return serializeAs4Xml(buildReceipt(incoming, v.references, sealIdentity(pki, 'c3')));
}

describe('AS4 signatures checked by xmlsec1 (independent implementation)', () => {
  it('xmlsec1 verifies our signed receipt (Messaging + Body) and rejects it when one byte changes', () => {
    const receipt = makeReceipt();
    const good = xmlsecVerifyWss(receipt);
    expect(good.output).toContain('SignedInfo References (ok/all): 2/2');
    expect(good.ok).toBe(true);
    const tampered = receipt.replace('<eb:RefToMessageId>m-xmlsec@qerds<', '<eb:RefToMessageId>m-xmlsec@qerdt<');
    expect(tampered).not.toBe(receipt);
    expect(xmlsecVerifyWss(tampered).ok).toBe(false);
    const tamperedBody = receipt.replace(/(<env:Body[^>]*)\/>/, '$1>x</env:Body>');
    expect(tamperedBody).not.toBe(receipt);
    expect(xmlsecVerifyWss(tamperedBody).ok).toBe(false);
  });

  it('a certificate outside the CA is refused by the chain check that stands in for --trusted-pem', () => {
    const receipt = makeReceipt();
    const ours = readFileSync(bstCertFile(receipt), 'utf8');
    expect(ours).toContain('BEGIN CERTIFICATE');
    const r = spawnSync('openssl', ['verify', '-CAfile', pki.ap('c3').sealCert, bstCertFile(receipt)], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
  });

  for (const fixture of ['xmlsec-user-message.tmpl.xml', 'xmlsec-user-message-prefixlist.tmpl.xml']) {
    it(`verifies a signature made by xmlsec1 (${fixture}) and detects tampering`, () => {
      const dir = tmp();
      const template = join(dir, 'tmpl.xml');
      writeFileSync(template, readFileSync(join(fixtures, fixture)));
      const c2 = pki.ap('c2');
      const signed = execFileSync('xmlsec1', ['--sign', '--privkey-pem', `${c2.sealKey},${c2.sealCert}`, ...ID_ATTRS, template], { encoding: 'utf8' });
      const expectedCertificate = new X509Certificate(readFileSync(c2.sealCert));
      const result = verifyEnvelope(parseAs4Xml(signed), [], { expectedCertificate, trust: anchorTrustStore(pki.caCert) });
      expect(result.findings).toEqual([]);
      expect(result.valid).toBe(true);
      expect(result.signedParts).toEqual(['Messaging', 'Body']);
      const parsed = parseEnvelope(signed);
      expect(parsed.kind).toBe('user');
      const tampered = signed.replace('<eb:Action>Deliver<', '<eb:Action>Deliver2<');
      expect(verifyEnvelope(parseAs4Xml(tampered), [], { expectedCertificate }).valid).toBe(false);
      const otherSigner = new X509Certificate(readFileSync(pki.ap('c3').sealCert));
      expect(verifyEnvelope(parseAs4Xml(signed), [], { expectedCertificate: otherSigner }).valid).toBe(false);
    });
  }
});
