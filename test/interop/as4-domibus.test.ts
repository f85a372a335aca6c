import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { verifyAs4Capture } from '../../src/as4/index.js';
import { createTrustStore } from '../../src/pki/index.js';

/**
 * AS4 messages and a receipt of Domibus (the eDelivery reference access point), as its test resources keep them
 * (test/fixtures/as4/foreign/domibus/README.md): what our capture verifier reads from them, and its verdict next
 * to xmlsec1's. They were reformatted after signing, so both find the eb:Messaging digest not matching.
 */
const path = (name: string) =>
  fileURLToPath(new URL(`../fixtures/as4/foreign/domibus/${name}`, import.meta.url));
const read = (name: string) => readFileSync(path(name));
const EB = 'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/';
const errors = (r: ReturnType<typeof verifyAs4Capture>) =>
  r.findings.filter((f) => f.severity === 'error').map((f) => f.code);

/** xmlsec1's reference count line (it checks the references before the key, and stops at the first that fails). */
function xmlsecReferences(name: string): string {
  const r = spawnSync(
    'xmlsec1',
    [
      '--verify',
      // Any certificate: the references are digested before the key is used.
      '--pubkey-cert-pem',
      fileURLToPath(
        new URL('../fixtures/as4/foreign/phase4/helger-pop000306-2023.cert.pem', import.meta.url),
      ),
      '--id-attr:Id',
      `${EB}:Messaging`,
      '--id-attr:Id',
      'http://www.w3.org/2003/05/soap-envelope:Body',
      path(name),
    ],
    { encoding: 'utf8' },
  );
  const out = `${r.stdout}${r.stderr}`;
  expect(r.status, out).not.toBe(0);
  expect(out).toContain('data and digest do not match');
  return /SignedInfo References \(ok\/all\): (\d+\/\d+)/.exec(out)?.[1] ?? out;
}

describe('Domibus AS4 material', () => {
  it('the signed Receipt: read (ids, NonRepudiationInformation, SKI key reference); the Messaging digest does not match, as xmlsec1 finds', () => {
    const r = verifyAs4Capture(read('validAS4Response2.xml'), { at: new Date('2016-09-22T00:00:00Z') });
    expect(r.messageType).toBe('Receipt');
    expect(r.soapVersion).toBe('1.2');
    expect(r.messageId).toBe('893b9627-9beb-4e38-9881-b582e8f7f57e@domibus.eu');
    expect(r.refToMessageId).toBe('24642b4f-800d-4acd-8426-1763a7b9550a@domibus.eu');
    expect(r.receipt?.nonRepudiation).toEqual(['#_d0877bcf-a659-4070-a7e7-bb1617c1bd92', 'cid:message']);
    expect(r.signature?.keyReference).toBe('KeyIdentifier X509SubjectKeyIdentifier');
    expect(r.verdict).toBe('INVALID');
    expect(r.findings.find((f) => f.code === 'AS4_SIG_DIGEST_MISMATCH')?.message).toBe(
      'digest of #_29921d26-6858-4133-bb72-6636f0029d10 does not match',
    );
    // The signer's certificate is not in the file: the key stays unresolved, which is said too.
    expect(errors(r)).toContain('AS4_SIG_KEY_UNRESOLVED');
    expect(xmlsecReferences('validAS4Response2.xml')).toBe('0/1');
  });

  it('the signed and encrypted UserMessages: read (message id, payload), signer from a BinarySecurityToken X509v3 and from an X509PKIPathv1 token', () => {
    const at = new Date('2018-11-20T00:00:00Z');
    const v3 = verifyAs4Capture(read('bst_x509v3_incoming_message.xml'), { at });
    const pkiPath = verifyAs4Capture(read('bst_X509PKIPathv1_incoming_message.xml'), { at });
    for (const r of [v3, pkiPath]) {
      expect(r.messageType).toBe('UserMessage');
      expect(r.payloads).toEqual([
        { href: 'cid:message', mimeType: 'text/xml', compressed: true, encrypted: false },
      ]);
      expect(r.signature?.signer?.subject).toBe('C=BE, ST=BRUXELLES, O=EU.TEST, CN=LEAF CERTIFICATE');
      expect(r.signature?.signer?.issuer).toBe('C=BE, ST=BRUXELLES, O=EU.TEST, CN=ICA CERTIFICATE');
      expect(r.verdict).toBe('INVALID');
    }
    expect(v3.messageId).toBe('8a5572f6-4f37-4d1a-8202-2deef36e44a3@domibus.eu');
    // Digest of the reformatted eb:Messaging, and the reformatted SignedInfo: both fail, as xmlsec1 says (1 of 2
    // references verified before it stopped: the Body, then the Messaging failed).
    // The signing token itself (the BinarySecurityToken the signature's reference names), read from the file.
    const token = /wsu:Id="X509-99bde7b7-932f-4dbd-82dd-3539ba51791b">([^<]+)</.exec(
      read('bst_x509v3_incoming_message.xml').toString('utf8'),
    )![1]!;
    const signer = new X509Certificate(Buffer.from(token.replace(/&#xd;|\s+/g, ''), 'base64'));
    expect(signer.fingerprint256).toBe(v3.signature?.signer?.fingerprint256);
    // With the signer pinned (the trust question settled) the verdict stays INVALID: it is the content that failed.
    const pinned = verifyAs4Capture(read('bst_x509v3_incoming_message.xml'), {
      at,
      trust: createTrustStore([signer]),
      expectedCertificate: signer,
    });
    expect(pinned.verdict).toBe('INVALID');
    expect(errors(pinned)).not.toContain('AS4_SIG_UNTRUSTED');
    expect(errors(v3)).toEqual(
      expect.arrayContaining(['AS4_SIG_DIGEST_MISMATCH', 'AS4_SIG_VALUE', 'AS4_ATTACHMENT_NOT_CHECKED']),
    );
    expect(v3.findings.find((f) => f.code === 'AS4_SIG_DIGEST_MISMATCH')?.message).toBe(
      'digest of #_9d18b733-7f9b-4b25-94a7-faf51a762d79 does not match',
    );
    expect(pkiPath.findings.find((f) => f.code === 'AS4_SIG_DIGEST_MISMATCH')?.message).toBe(
      'digest of #_d32ea8e6-7691-4fe9-a0f6-0fc79bfded2a does not match',
    );
    // The PKIPath token resolves to the same signer, with its issuer carried as an intermediate: no
    // "unsupported token type".
    expect(pkiPath.signature?.keyReference).toBe('BinarySecurityToken reference');
    expect(pkiPath.findings.map((f) => f.message).join(' ')).not.toContain('unsupported token type');
    expect(signer.serialNumber).toBe('1000');
    expect(xmlsecReferences('bst_x509v3_incoming_message.xml')).toBe('1/2');
    expect(xmlsecReferences('bst_X509PKIPathv1_incoming_message.xml')).toBe('1/2');
  });
});
