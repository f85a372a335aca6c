import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatAs4CaptureReport, verifyAs4Capture, type Attachment } from '../../src/as4/index.js';
import { NS as AS4_NS } from '../../src/as4/model/namespaces.js';
import { buildUserMessageEnvelope } from '../../src/as4/message/envelope-build.js';
import { compressPayloads } from '../../src/as4/message/compression.js';
import { encodeMultipart } from '../../src/as4/message/multipart.js';
import { encryptAttachments } from '../../src/as4/security/attachment-encryption.js';
import { serializeXml as serializeAs4Xml } from '../../src/xml/index.js';
import { signEnvelope } from '../../src/as4/security/ws-security-sign.js';
import { loadTrustStore } from '../../src/pki/index.js';
import { sharedTestPki, foreignTestPki } from '../helpers/pki.js';
import { sampleMessage, sealIdentity, wrapSignedMessaging } from './as4-helpers.js';

const pki = sharedTestPki();
const c2 = sealIdentity(pki, 'c2');
const c3 = sealIdentity(pki, 'c3');
// With the CA's CRL: a signer whose revocation status cannot be established is INDETERMINATE, not VALID.
const trust = loadTrustStore([pki.caCert, pki.caCrl]);
const templates = join(import.meta.dirname, '..', 'fixtures', 'as4', 'captures');
const tmp = () => mkdtempSync(join(tmpdir(), 'qerds-as4-capture-'));

/** Sign a captured-product template with xmlsec1 (an independent signer) as C3; the BST/issuer/serial filled in first. */
function xmlsecSigned(template: string, soapNs: string): string {
  const cert = c3.certificate;
  const filled = readFileSync(join(templates, template), 'utf8')
    .replace('@BST@', cert.raw.toString('base64'))
    .replace('@ISSUER@', cert.issuer.split('\n').reverse().join(','))
    .replace('@SERIAL@', BigInt(`0x${cert.serialNumber}`).toString(10));
  const dir = tmp();
  writeFileSync(join(dir, 't.xml'), filled);
  return execFileSync(
    'xmlsec1',
    [
      '--sign',
      '--privkey-pem',
      `${pki.ap('c3').sealKey},${pki.ap('c3').sealCert}`,
      '--id-attr:Id',
      `${AS4_NS.eb}:Messaging`,
      '--id-attr:Id',
      `${soapNs}:Body`,
      join(dir, 't.xml'),
    ],
    { encoding: 'utf8' },
  );
}

/** An HTTP/1.1 response dump with a chunked body, the way a proxy log or `curl --raw -i` shows it. */
function httpResponseDump(xml: string, soap12: boolean): Buffer {
  const body = Buffer.from(xml, 'utf8');
  const mid = Math.floor(body.length / 2);
  const chunk = (b: Buffer) =>
    Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);
  return Buffer.concat([
    Buffer.from(
      `HTTP/1.1 200 OK\r\nContent-Type: ${soap12 ? 'application/soap+xml' : 'text/xml'};charset=UTF-8\r\nTransfer-Encoding: chunked\r\nDate: Tue, 04 Mar 2025 05:06:07 GMT\r\n\r\n`,
    ),
    chunk(body.subarray(0, mid)),
    chunk(body.subarray(mid)),
    Buffer.from('0\r\n\r\n'),
  ]);
}

/** Change one byte of the text right after `marker` (inside signed content). */
function flipAfter(bytes: Buffer, marker: string): Buffer {
  const at = bytes.indexOf(marker) + marker.length;
  expect(at).toBeGreaterThanOrEqual(marker.length);
  const out = Buffer.from(bytes);
  out[at] = out[at] === 0x41 ? 0x42 : 0x41;
  return out;
}

describe('verifyAs4Capture: receipts in the shapes other AS4 products emit, signed by xmlsec1', () => {
  it('phase4 shape: SOAP 1.2, InclusiveNamespaces PrefixLists, BST reference, in a chunked HTTP response dump', () => {
    const capture = httpResponseDump(xmlsecSigned('phase4-receipt-soap12.tmpl.xml', AS4_NS.soap12), true);
    const r = verifyAs4Capture(capture, { trust });
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({
      verdict: 'VALID',
      container: 'http-response',
      httpStartLine: 'HTTP/1.1 200 OK',
      soapVersion: '1.2',
      messageType: 'Receipt',
      messageId: '4e0b1c2d-phase4@phase4.example',
      refToMessageId: 'm-captured@qerds',
      receipt: { nonRepudiation: ['#id-messaging', 'cid:payload-1@qerds'] },
      signature: {
        algorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
        keyReference: 'BinarySecurityToken reference',
        signedParts: ['Messaging', 'Body'],
      },
    });
    expect(r.signature!.signer!.subject).toContain(c3.certificate.subject.split('\n').at(-1)!);
    const text = formatAs4CaptureReport(r);
    expect(text).toContain('message:       Receipt 4e0b1c2d-phase4@phase4.example');
    expect(text.split('\n').at(-1)).toBe('verdict:       VALID');
    for (const marker of ['<eb:RefToMessageId>m', '<ds:DigestValue>n2Dr', 'wsu:Id="id-9a8b7c6d']) {
      const bad = verifyAs4Capture(flipAfter(capture, marker), { trust });
      expect(bad.verdict, marker).toBe('INVALID');
    }
  });

  it('Domibus-like shape: SOAP 1.1, upper-case SOAP-ENV and eb3 prefixes in PrefixLists, pretty-printed, bare envelope', () => {
    const xml = xmlsecSigned('domibus-receipt-soap11.tmpl.xml', AS4_NS.soap11);
    const r = verifyAs4Capture(Buffer.from(xml), { trust });
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({
      verdict: 'VALID',
      container: 'soap',
      soapVersion: '1.1',
      messageType: 'Receipt',
      messageId: 'd0m1b05-receipt@domibus.example',
    });
    expect(verifyAs4Capture(flipAfter(Buffer.from(xml), '<eb3:MessageId>d'), { trust }).verdict).toBe(
      'INVALID',
    );
    expect(verifyAs4Capture(flipAfter(Buffer.from(xml), '<ds:SignatureValue>'), { trust }).verdict).toBe(
      'INVALID',
    );
  });

  it('Holodeck-like shape: Messaging before Security, key named by issuer/serial (needs the expected certificate)', () => {
    const xml = Buffer.from(xmlsecSigned('holodeck-receipt-issuer-serial.tmpl.xml', AS4_NS.soap12));
    const r = verifyAs4Capture(xml, { trust, expectedCertificate: c3.certificate });
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({ verdict: 'VALID', signature: { keyReference: 'X509Data/X509IssuerSerial' } });
    expect(verifyAs4Capture(xml, { trust, expectedCertificate: c2.certificate }).verdict).toBe('INVALID');
    expect(
      verifyAs4Capture(flipAfter(xml, '<eb:Timestamp>2025-03-04T05:06:0'), {
        trust,
        expectedCertificate: c3.certificate,
      }).verdict,
    ).toBe('INVALID');
  });

  it('a receipt signed by a key outside the trust store is INVALID', () => {
    const foreign = sealIdentity(foreignTestPki(), 'c3');
    const doc = buildUserMessageEnvelope(sampleMessage('m-foreign@qerds', []));
    signEnvelope(doc, [], foreign);
    const r = verifyAs4Capture(Buffer.from(serializeAs4Xml(doc)), { trust });
    expect(r.verdict).toBe('INVALID');
    expect(r.findings.map((f) => f.code)).toContain('AS4_SIG_UNTRUSTED');
  });
});

describe('verifyAs4Capture: user messages as MIME and as HTTP requests', () => {
  const attachments: Attachment[] = [
    { contentId: 'payload-1@qerds', contentType: 'application/pdf', body: randomBytes(2048) },
  ];

  function userMessageMime(opts: { encrypt?: boolean; wrap?: boolean } = {}) {
    const c = compressPayloads(sampleMessage('m-captured@qerds', attachments), attachments);
    const doc = buildUserMessageEnvelope(c.message);
    signEnvelope(doc, c.attachments, c2);
    if (opts.wrap) wrapSignedMessaging(doc);
    const sent = opts.encrypt ? encryptAttachments(doc, c.attachments, c3.certificate) : c.attachments;
    return encodeMultipart(serializeAs4Xml(doc), sent);
  }

  it('raw MIME with its Content-Type line: parties, service, payloads (gzip) and every signed part', () => {
    const mime = userMessageMime();
    const capture = Buffer.concat([
      Buffer.from(`MIME-Version: 1.0\r\nContent-Type: ${mime.contentType}\r\n\r\n`),
      mime.body,
    ]);
    const r = verifyAs4Capture(capture, { trust });
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({
      verdict: 'VALID',
      container: 'mime',
      messageType: 'UserMessage',
      messageId: 'm-captured@qerds',
      from: { partyId: 'ap-c2' },
      to: { partyId: 'ap-c3' },
      collaboration: { service: 'urn:qerds:service:erds', action: 'Deliver' },
      payloads: [
        { href: 'cid:payload-1@qerds', mimeType: 'application/pdf', compressed: true, encrypted: false },
      ],
      signature: { signedParts: ['Messaging', 'Body', 'cid:payload-1@qerds'] },
    });
    const gz = capture.indexOf(Buffer.from([0x1f, 0x8b, 0x08]));
    const bad = Buffer.from(capture);
    bad[gz + 30] = bad[gz + 30]! ^ 1;
    expect(verifyAs4Capture(bad, { trust }).verdict).toBe('INVALID');
  });

  it('an HTTP request dump; encrypted payloads verify only with the recipient key', () => {
    const mime = userMessageMime({ encrypt: true });
    const capture = Buffer.concat([
      Buffer.from(
        `POST /as4 HTTP/1.1\r\nHost: ap-c3.example\r\nContent-Type: ${mime.contentType}\r\nContent-Length: ${mime.body.length}\r\n\r\n`,
      ),
      mime.body,
    ]);
    const without = verifyAs4Capture(capture, { trust });
    // Encrypted and no key given: not checked, so no verdict either way (EN 319 102-1), never "digest mismatch".
    expect(without.verdict).toBe('INDETERMINATE');
    expect(without.findings.map((f) => f.code)).toContain('AS4_ATTACHMENT_NOT_CHECKED');
    const withKey = verifyAs4Capture(capture, { trust, decryptionKeys: [c3] });
    expect(withKey.findings).toEqual([]);
    expect(withKey).toMatchObject({
      verdict: 'VALID',
      container: 'http-request',
      httpStartLine: 'POST /as4 HTTP/1.1',
      payloads: [{ encrypted: true, compressed: true }],
    });
  });

  it('a signature-wrapping attempt is INVALID', () => {
    const mime = userMessageMime({ wrap: true });
    const r = verifyAs4Capture(
      Buffer.concat([Buffer.from(`Content-Type: ${mime.contentType}\r\n\r\n`), mime.body]),
      { trust },
    );
    expect(r.verdict).toBe('INVALID');
    expect(r.findings.map((f) => f.code)).toEqual(expect.arrayContaining(['AS4_SIG_NOT_COVERED']));
  });

  it('says why it cannot read something that is not an AS4 capture', () => {
    expect(verifyAs4Capture(Buffer.from('hello world')).findings[0]!.code).toBe('AS4_CAPTURE_UNREADABLE');
    expect(verifyAs4Capture(Buffer.from('<x/>')).verdict).toBe('INVALID');
  });
});
