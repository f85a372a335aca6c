import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { definePMode, sendUserMessage, type Attachment } from '../../src/as4/index.js';
import { NS as AS4_NS } from '../../src/as4/model/namespaces.js';
import { buildUserMessageEnvelope } from '../../src/as4/message/envelope-build.js';
import { decryptAttachments, encryptAttachments } from '../../src/as4/security/attachment-encryption.js';
import { encodeMultipart } from '../../src/as4/message/multipart.js';
import { parseXml as parseAs4Xml } from '../../src/as4/message/xml-util.js';
import { serializeXml as serializeAs4Xml } from '../../src/xml/index.js';
import { signEnvelope } from '../../src/as4/security/ws-security-sign.js';
import { verifyEnvelope } from '../../src/as4/security/ws-security-verify.js';
import { sharedTestPki } from '../helpers/pki.js';
import {
  anchorTrustStore,
  errorCodeOf,
  opensslAs4v2Identities,
  postAs4,
  sampleMessage,
  sealIdentity,
  startAs4Server,
  type As4TestServer,
} from './as4-helpers.js';

const pki = sharedTestPki();
const trust = anchorTrustStore(pki.caCert);
const sender = opensslAs4v2Identities(pki, 'C2');
const receiver = opensslAs4v2Identities(pki, 'C3');
const attachments: Attachment[] = [
  {
    contentId: 'doc@qerds',
    contentType: 'application/xml',
    body: Buffer.from('<?xml version="1.0"?>\n<doc>for C3 only</doc>\n'),
  },
  { contentId: 'bin@qerds', contentType: 'application/octet-stream', body: randomBytes(5000) },
];
const tmp = () => mkdtempSync(join(tmpdir(), 'qerds-as4v2-t-'));
const pmode = definePMode({
  id: 'v2',
  service: 'urn:qerds:service:erds',
  serviceType: 'urn:qerds:services',
  action: 'Deliver',
  security: { algorithmSet: 'edelivery-2.0', encrypt: true },
});

let server: As4TestServer;
beforeAll(async () => {
  server = await startAs4Server({
    identity: receiver.signing,
    decryptionKeys: [receiver.encryption],
    trust,
    pmodes: [pmode],
  });
});
afterAll(() => server.close());

function build(id = `m-${randomBytes(4).toString('hex')}@qerds`) {
  const doc = buildUserMessageEnvelope(sampleMessage(id, attachments));
  signEnvelope(doc, attachments, sender.signing);
  const sent = encryptAttachments(doc, attachments, receiver.encryption.certificate);
  return { xml: serializeAs4Xml(doc), sent };
}

const first = (doc: Document | Element, ns: string, name: string) => doc.getElementsByTagNameNS(ns, name)[0]!;

describe('eDelivery AS4 2.0 algorithm set: Ed25519 signatures, X25519 + HKDF + AES key wrap, AES-128-GCM', () => {
  it('writes EdDSA and an AgreementMethod with KeyDerivationMethod, OriginatorKeyInfo and RecipientKeyInfo', () => {
    const doc = parseAs4Xml(build().xml);
    expect(first(doc, AS4_NS.ds, 'SignatureMethod').getAttribute('Algorithm')).toBe(
      'http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519',
    );
    const ek = first(doc, AS4_NS.xenc, 'EncryptedKey');
    expect(first(ek, AS4_NS.xenc, 'EncryptionMethod').getAttribute('Algorithm')).toBe(
      'http://www.w3.org/2001/04/xmlenc#kw-aes128',
    );
    const am = first(ek, AS4_NS.xenc, 'AgreementMethod');
    expect(am.getAttribute('Algorithm')).toBe('http://www.w3.org/2021/04/xmldsig-more#x25519');
    expect(first(am, AS4_NS.xenc11, 'KeyDerivationMethod').getAttribute('Algorithm')).toBe(
      'http://www.w3.org/2021/04/xmldsig-more#hkdf',
    );
    expect(first(am, AS4_NS.dsigMore, 'PRF').getAttribute('Algorithm')).toBe(
      'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256',
    );
    expect(first(am, AS4_NS.dsigMore, 'KeyLength').textContent).toBe('16');
    expect(
      first(am, AS4_NS.xenc, 'OriginatorKeyInfo').getElementsByTagNameNS(AS4_NS.dsig11, 'DEREncodedKeyValue'),
    ).toHaveLength(1);
    const rki = first(am, AS4_NS.xenc, 'RecipientKeyInfo');
    expect(BigInt(first(rki, AS4_NS.ds, 'X509SerialNumber').textContent!)).toBe(
      BigInt(`0x${receiver.encryption.certificate.serialNumber}`),
    );
  });

  it('round-trips in memory and the Ed25519 signature verifies after decryption', () => {
    const { xml, sent } = build();
    const doc = parseAs4Xml(xml);
    const out = decryptAttachments(doc, sent, [receiver.encryption]);
    expect(out.keyProtection).toEqual(['http://www.w3.org/2001/04/xmlenc#kw-aes128']);
    expect(out.attachments).toEqual(attachments);
    const v = verifyEnvelope(doc, out.attachments, { trust });
    expect(v.findings).toEqual([]);
    expect(v.signatureAlgorithm).toBe('http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519');
  });

  it('independent check: openssl derives X25519 + HKDF, xmlsec1 unwraps (kw-aes128) and decrypts (AES-128-GCM)', () => {
    const { xml, sent } = build();
    const dir = tmp();
    const der = /<dsig11:DEREncodedKeyValue[^>]*>([^<]+)</.exec(xml)![1]!;
    writeFileSync(join(dir, 'eph.der'), Buffer.from(der, 'base64'));
    execFileSync('openssl', [
      'pkey',
      '-pubin',
      '-inform',
      'DER',
      '-in',
      join(dir, 'eph.der'),
      '-out',
      join(dir, 'eph.pem'),
    ]);
    execFileSync('openssl', [
      'pkeyutl',
      '-derive',
      '-inkey',
      join(receiver.dir, 'enc.key.pem'),
      '-peerkey',
      join(dir, 'eph.pem'),
      '-out',
      join(dir, 'z.bin'),
    ]);
    const salt = Buffer.from(/<dsig-more:Salt>([^<]+)</.exec(xml)![1]!, 'base64');
    const kek = execFileSync(
      'openssl',
      [
        'kdf',
        '-keylen',
        '16',
        '-kdfopt',
        'digest:SHA256',
        '-kdfopt',
        `hexkey:${readFileSync(join(dir, 'z.bin')).toString('hex')}`,
        '-kdfopt',
        `hexsalt:${salt.toString('hex')}`,
        'HKDF',
      ],
      { encoding: 'utf8' },
    )
      .trim()
      .replace(/:/g, '');
    writeFileSync(join(dir, 'kek.bin'), Buffer.from(kek, 'hex'));
    const wrapped = /<xenc:EncryptedKey[\s\S]*?<xenc:CipherValue>([^<]+)</.exec(xml)![1]!;
    for (const [i, part] of sent.entries()) {
      writeFileSync(
        join(dir, 'ed.xml'),
        `<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#">` +
          `<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/><ds:KeyInfo><xenc:EncryptedKey>` +
          `<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#kw-aes128"/><xenc:CipherData><xenc:CipherValue>${wrapped}</xenc:CipherValue></xenc:CipherData>` +
          `</xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>${part.body.toString('base64')}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>`,
      );
      const r = spawnSync(
        'xmlsec1',
        [
          '--decrypt',
          '--aeskey',
          join(dir, 'kek.bin'),
          '--output',
          join(dir, 'out.bin'),
          join(dir, 'ed.xml'),
        ],
        { encoding: 'utf8' },
      );
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(join(dir, 'out.bin')).equals(attachments[i]!.body)).toBe(true);
    }
  });

  it('independent check: xmllint canonicalizes SignedInfo and openssl verifies the Ed25519 SignatureValue over it', () => {
    const { xml } = build();
    const dir = tmp();
    const si = /<ds:SignedInfo>[\s\S]*?<\/ds:SignedInfo>/
      .exec(xml)![0]
      .replace('<ds:SignedInfo>', `<ds:SignedInfo xmlns:ds="${AS4_NS.ds}">`);
    writeFileSync(join(dir, 'si.xml'), si);
    writeFileSync(join(dir, 'si.c14n'), execFileSync('xmllint', ['--exc-c14n', join(dir, 'si.xml')]));
    writeFileSync(join(dir, 'sig.bin'), Buffer.from(/<ds:SignatureValue>([^<]+)</.exec(xml)![1]!, 'base64'));
    const verify = (file: string) =>
      spawnSync(
        'openssl',
        [
          'pkeyutl',
          '-verify',
          '-certin',
          '-inkey',
          join(sender.dir, 'sig.crt.pem'),
          '-rawin',
          '-in',
          file,
          '-sigfile',
          join(dir, 'sig.bin'),
        ],
        { encoding: 'utf8' },
      );
    const ok = verify(join(dir, 'si.c14n'));
    expect(ok.stdout).toContain('Signature Verified Successfully');
    writeFileSync(
      join(dir, 'si2.c14n'),
      readFileSync(join(dir, 'si.c14n'), 'utf8').replace('DigestValue>', 'DigestValue>A'),
    );
    expect(verify(join(dir, 'si2.c14n')).status).not.toBe(0);
  });

  it('over HTTP with a 2.0 P-Mode: delivered, and the receipt is Ed25519-signed by the receiver', async () => {
    const message = sampleMessage('m-v2-http@qerds', attachments);
    const r = await sendUserMessage({
      endpoint: server.endpoint,
      message,
      attachments,
      identity: sender.signing,
      trust,
      receiverCertificate: receiver.signing.certificate,
      encryptFor: receiver.encryption.certificate,
      compress: true,
    });
    expect(r.receiptXml).toContain('http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519');
    expect(server.received.find((x) => x.message.messageId === 'm-v2-http@qerds')!.attachments).toEqual(
      attachments,
    );
  });

  it('over HTTP: an RSA-OAEP (1.15) message where the P-Mode wants 2.0 is EBMS:0103; a bad wrapped key is EBMS:0102', async () => {
    const doc = buildUserMessageEnvelope(sampleMessage('m-v2-rsa@qerds', attachments));
    signEnvelope(doc, attachments, sender.signing);
    const c3 = sealIdentity(pki, 'c3');
    const sent = encryptAttachments(doc, attachments, c3.certificate);
    const mixed = await startAs4Server({
      identity: receiver.signing,
      decryptionKeys: [receiver.encryption, c3],
      trust,
      pmodes: [pmode],
    });
    try {
      const mime = encodeMultipart(serializeAs4Xml(doc), sent);
      expect(errorCodeOf((await postAs4(mixed.endpoint, mime.contentType, mime.body)).signal)).toBe(
        'EBMS:0103',
      );
    } finally {
      await mixed.close();
    }
    const { xml, sent: sent2 } = build();
    const bad = xml.replace(
      /(<xenc:EncryptedKey[\s\S]*?<xenc:CipherValue>)(.)/,
      (_m, a: string, c: string) => a + (c === 'A' ? 'B' : 'A'),
    );
    const mime = encodeMultipart(bad, sent2);
    expect(errorCodeOf((await postAs4(server.endpoint, mime.contentType, mime.body)).signal)).toBe(
      'EBMS:0102',
    );
  });
});
