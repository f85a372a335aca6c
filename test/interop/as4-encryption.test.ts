import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendUserMessage, type Attachment } from '../../src/as4/index.js';
import { NS as AS4_NS } from '../../src/as4/model/namespaces.js';
import { buildUserMessageEnvelope } from '../../src/as4/message/envelope-build.js';
import { encodeMultipart } from '../../src/as4/message/multipart.js';
import { decodeMultipart } from '../../src/as4/message/multipart-stream.js';
import { decryptAttachments, encryptAttachments } from '../../src/as4/security/attachment-encryption.js';
import { parseXml as parseAs4Xml } from '../../src/as4/message/xml-util.js';
import { serializeXml as serializeAs4Xml } from '../../src/xml/index.js';
import { signEnvelope } from '../../src/as4/security/ws-security-sign.js';
import { verifyEnvelope } from '../../src/as4/security/ws-security-verify.js';
import { sharedTestPki, foreignTestPki } from '../helpers/pki.js';
import {
  anchorTrustStore,
  errorCodeOf,
  postAs4,
  sampleMessage,
  sealIdentity,
  startAs4Server,
  type As4TestServer,
} from './as4-helpers.js';

const pki = sharedTestPki();
const c2 = sealIdentity(pki, 'c2');
const c3 = sealIdentity(pki, 'c3');
const trust = anchorTrustStore(pki.caCert);
const attachments: Attachment[] = [
  {
    contentId: 'doc@qerds',
    contentType: 'application/xml',
    body: Buffer.from('<?xml version="1.0"?>\n<doc>secret</doc>\n'),
  },
  { contentId: 'bin@qerds', contentType: 'application/octet-stream', body: randomBytes(3000) },
];
const tmp = () => mkdtempSync(join(tmpdir(), 'qerds-as4-enc-'));

let server: As4TestServer;
beforeAll(async () => {
  server = await startAs4Server({ identity: c3, trust });
});
afterAll(() => server.close());

/** Sign, then encrypt for `recipient`: the message as a sender following eDelivery AS4 1.15 builds it. */
function signedEncrypted(recipient = c3.certificate, id = `m-${randomBytes(4).toString('hex')}@qerds`) {
  const doc = buildUserMessageEnvelope(sampleMessage(id, attachments));
  signEnvelope(doc, attachments, c2);
  const sent = encryptAttachments(doc, attachments, recipient);
  return { doc, sent, xml: serializeAs4Xml(doc) };
}

describe('AS4 attachment encryption, eDelivery AS4 1.15 (RSA-OAEP + AES-128-GCM)', () => {
  it('writes the WSS4J shape: EncryptedKey (RSA-OAEP, MGF1-SHA256, SHA-256) listing one EncryptedData per attachment, before the Signature', () => {
    const { doc, sent } = signedEncrypted();
    const security = doc.getElementsByTagNameNS(AS4_NS.wsse, 'Security')[0]!;
    const kids = Array.from({ length: security.childNodes.length }, (_, i) =>
      security.childNodes.item(i),
    ).filter((n) => n.nodeType === 1) as Element[];
    expect(kids.map((k) => k.localName)).toEqual([
      'BinarySecurityToken',
      'EncryptedKey',
      'EncryptedData',
      'EncryptedData',
      'Signature',
    ]);
    const ek = kids[1]!;
    const method = ek.getElementsByTagNameNS(AS4_NS.xenc, 'EncryptionMethod')[0]!;
    expect(method.getAttribute('Algorithm')).toBe('http://www.w3.org/2009/xmlenc11#rsa-oaep');
    expect(method.getElementsByTagNameNS(AS4_NS.ds, 'DigestMethod')[0]!.getAttribute('Algorithm')).toBe(
      'http://www.w3.org/2001/04/xmlenc#sha256',
    );
    expect(method.getElementsByTagNameNS(AS4_NS.xenc11, 'MGF')[0]!.getAttribute('Algorithm')).toBe(
      'http://www.w3.org/2009/xmlenc11#mgf1sha256',
    );
    const refs = Array.from(
      ek.getElementsByTagNameNS(AS4_NS.xenc, 'DataReference') as unknown as Element[],
    ).map((r) => r.getAttribute('URI'));
    expect(refs).toEqual([`#${kids[2]!.getAttribute('Id')}`, `#${kids[3]!.getAttribute('Id')}`]);
    const ed = kids[2]!;
    expect(ed.getAttribute('Type')).toBe(
      'http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Content-Only',
    );
    expect(ed.getAttribute('MimeType')).toBe('application/xml');
    expect(ed.getElementsByTagNameNS(AS4_NS.xenc, 'EncryptionMethod')[0]!.getAttribute('Algorithm')).toBe(
      'http://www.w3.org/2009/xmlenc11#aes128-gcm',
    );
    const cref = ed.getElementsByTagNameNS(AS4_NS.xenc, 'CipherReference')[0]!;
    expect(cref.getAttribute('URI')).toBe('cid:doc@qerds');
    expect(cref.getElementsByTagNameNS(AS4_NS.ds, 'Transform')[0]!.getAttribute('Algorithm')).toBe(
      'http://docs.oasis-open.org/wss/oasis-wss-SwAProfile-1.1#Attachment-Ciphertext-Transform',
    );
    expect(sent.map((a) => a.contentType)).toEqual(['application/octet-stream', 'application/octet-stream']);
    expect(sent[0]!.body.length).toBe(attachments[0]!.body.length + 12 + 16);
  });

  it('round-trips: decrypt restores bytes and MIME types, then the signature over the plaintext verifies', () => {
    const { xml, sent } = signedEncrypted();
    const doc = parseAs4Xml(xml);
    const out = decryptAttachments(doc, sent, [c3]);
    expect(out.encrypted).toEqual(['doc@qerds', 'bin@qerds']);
    expect(out.keyProtection).toEqual(['http://www.w3.org/2009/xmlenc11#rsa-oaep']);
    expect(out.attachments).toEqual(attachments);
    const v = verifyEnvelope(doc, out.attachments, { trust });
    expect(v.findings).toEqual([]);
    expect(v.signedParts).toEqual(['Messaging', 'Body', 'cid:doc@qerds', 'cid:bin@qerds']);
  });

  it('independent check: openssl pkeyutl unwraps the session key (OAEP, SHA-256, MGF1-SHA256), xmlsec1 opens the AES-128-GCM part with it', () => {
    const { xml, sent } = signedEncrypted();
    const wrapped = /<xenc:CipherValue>([^<]+)</.exec(xml)![1]!;
    const dir = tmp();
    writeFileSync(join(dir, 'wrapped.bin'), Buffer.from(wrapped, 'base64'));
    // xmlsec1 1.2.37 knows only rsa-oaep-mgf1p (MGF1-SHA1), not xmlenc11#rsa-oaep with MGF1-SHA256: openssl unwraps.
    execFileSync('openssl', [
      'pkeyutl',
      '-decrypt',
      '-inkey',
      pki.ap('c3').sealKey,
      '-in',
      join(dir, 'wrapped.bin'),
      '-out',
      join(dir, 'cek.bin'),
      '-pkeyopt',
      'rsa_padding_mode:oaep',
      '-pkeyopt',
      'rsa_oaep_md:sha256',
      '-pkeyopt',
      'rsa_mgf1_md:sha256',
    ]);
    expect(readFileSync(join(dir, 'cek.bin')).length).toBe(16);
    // xmlsec1 reads no SwA cid: parts: the part's bytes (IV ‖ ciphertext ‖ tag) become an inline CipherValue.
    for (const [i, part] of sent.entries()) {
      writeFileSync(
        join(dir, 'ed.xml'),
        `<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">` +
          `<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/>` +
          `<xenc:CipherData><xenc:CipherValue>${part.body.toString('base64')}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>`,
      );
      const r = spawnSync(
        'xmlsec1',
        [
          '--decrypt',
          '--aeskey',
          join(dir, 'cek.bin'),
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

  it('wrong recipient key → AS4_EBMS_0102', () => {
    const { xml, sent } = signedEncrypted();
    expect(() => decryptAttachments(parseAs4Xml(xml), sent, [c2])).toThrow(
      expect.objectContaining({ code: 'AS4_EBMS_0102' }),
    );
    // Same certificate names, another key: the EncryptedKey names c3's certificate by issuer/serial.
    const other = sealIdentity(foreignTestPki(), 'c3');
    expect(() => decryptAttachments(parseAs4Xml(xml), sent, [other])).toThrow(
      expect.objectContaining({ code: 'AS4_EBMS_0102' }),
    );
  });

  it('altered ciphertext or tag → AS4_EBMS_0102', () => {
    const { xml, sent } = signedEncrypted();
    for (const at of [20, sent[0]!.body.length - 1]) {
      const changed = Buffer.from(sent[0]!.body);
      changed[at] = changed[at]! ^ 1;
      expect(() =>
        decryptAttachments(parseAs4Xml(xml), [{ ...sent[0]!, body: changed }, sent[1]!], [c3]),
      ).toThrow(expect.objectContaining({ code: 'AS4_EBMS_0102' }));
    }
  });

  it('over HTTP: the receiver decrypts, verifies and delivers; the wire never carries the plaintext', async () => {
    const message = sampleMessage('m-enc-http@qerds', attachments);
    const result = await sendUserMessage({
      endpoint: server.endpoint,
      message,
      attachments,
      identity: c2,
      receiverCertificate: c3.certificate,
      trust,
      encryptFor: c3.certificate,
    });
    expect(result.receipt.nonRepudiation.map((r) => r.uri)).toEqual([
      '#id-messaging',
      '#id-body',
      'cid:doc@qerds',
      'cid:bin@qerds',
    ]);
    const wire = server.wire.at(-1)!;
    expect(wire.body.includes(Buffer.from('<doc>secret</doc>'))).toBe(false);
    expect(wire.body.includes(attachments[1]!.body.subarray(0, 64))).toBe(false);
    expect(decodeMultipart(wire.contentType, wire.body).attachments.map((a) => a.contentType)).toEqual([
      'application/octet-stream',
      'application/octet-stream',
    ]);
    const got = server.received.find((r) => r.message.messageId === 'm-enc-http@qerds')!;
    expect(got.attachments).toEqual(attachments);
  });

  it('over HTTP: altered ciphertext → EBMS:0102; encrypted for someone else → EBMS:0102', async () => {
    const a = signedEncrypted();
    const changed = Buffer.from(a.sent[1]!.body);
    changed[40] = changed[40]! ^ 1;
    const mime = encodeMultipart(a.xml, [a.sent[0]!, { ...a.sent[1]!, body: changed }]);
    expect(errorCodeOf((await postAs4(server.endpoint, mime.contentType, mime.body)).signal)).toBe(
      'EBMS:0102',
    );
    const b = signedEncrypted(c2.certificate);
    const mime2 = encodeMultipart(b.xml, b.sent);
    expect(errorCodeOf((await postAs4(server.endpoint, mime2.contentType, mime2.body)).signal)).toBe(
      'EBMS:0102',
    );
  });
});
