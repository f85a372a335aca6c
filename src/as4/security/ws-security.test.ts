import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedTestPki, foreignTestPki } from '../../../test/helpers/pki.js';
import { anchorTrustStore, sampleMessage, sealIdentity } from '../../../test/interop/as4-helpers.js';
import { canonicalize, serializeXml } from '../../xml/index.js';
import { buildUserMessageEnvelope } from '../message/envelope-build.js';
import { buildReceipt } from '../message/signals.js';
import { signEnvelope } from './ws-security-sign.js';
import { verifyEnvelope } from './ws-security-verify.js';
import { parseXml } from '../message/xml-util.js';
import type { Attachment } from '../model/types.js';

const pki = sharedTestPki();
const c2 = sealIdentity(pki, 'c2');
const c3 = sealIdentity(pki, 'c3');
const trust = anchorTrustStore(pki.caCert);
const attachments: Attachment[] = [
  {
    contentId: 'payload-1@qerds',
    contentType: 'application/octet-stream',
    body: Buffer.from([1, 2, 3, 13, 10, 0]),
  },
  { contentId: 'payload-2@qerds', contentType: 'text/plain', body: Buffer.from('line1\nline2\n') },
  {
    contentId: 'payload-3@qerds',
    contentType: 'application/xml',
    body: Buffer.from(
      '<?xml version="1.0"?>\n<r:a xmlns:r="urn:r" xmlns:unused="urn:u"  b="1"><!-- c --><r:b/></r:a>',
    ),
  },
];

function signedXml(atts = attachments): string {
  const doc = buildUserMessageEnvelope(sampleMessage('m1@qerds', atts));
  signEnvelope(doc, atts, c2);
  return serializeXml(doc);
}

describe('WS-Security signature', () => {
  it('signs Messaging, Body and every attachment, and verifies after a serialize/parse round trip', () => {
    const result = verifyEnvelope(parseXml(signedXml()), attachments, { trust });
    expect(result.findings).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.signer?.fingerprint256).toBe(c2.certificate.fingerprint256);
    expect(result.signedParts).toEqual([
      'Messaging',
      'Body',
      'cid:payload-1@qerds',
      'cid:payload-2@qerds',
      'cid:payload-3@qerds',
    ]);
  });

  it('digests attachments per the SwA profile: text with CRLF, XML exclusive-canonicalized', () => {
    const crlf = attachments.map((a) =>
      a.contentType === 'text/plain' ? { ...a, body: Buffer.from('line1\r\nline2\r\n') } : a,
    );
    const xml = attachments.map((a) =>
      a.contentType === 'application/xml'
        ? { ...a, body: Buffer.from('<r:a xmlns:r="urn:r" b="1"><r:b></r:b></r:a>') }
        : a,
    );
    const doc = signedXml();
    expect(verifyEnvelope(parseXml(doc), crlf, { trust }).valid).toBe(true);
    expect(verifyEnvelope(parseXml(doc), xml, { trust }).valid).toBe(true);
  });

  it('fails when one attachment byte changes', () => {
    const tampered = attachments.map((a, i) =>
      i === 0 ? { ...a, body: Buffer.from([1, 2, 4, 13, 10, 0]) } : a,
    );
    const result = verifyEnvelope(parseXml(signedXml()), tampered, { trust });
    expect(result.valid).toBe(false);
    expect(result.findings.map((f) => f.code)).toContain('AS4_SIG_DIGEST_MISMATCH');
  });

  it('fails when an attachment is added that the signature does not cover', () => {
    const extra = [
      ...attachments,
      { contentId: 'extra@x', contentType: 'text/plain', body: Buffer.from('x') },
    ];
    expect(verifyEnvelope(parseXml(signedXml()), extra, { trust }).findings.map((f) => f.code)).toContain(
      'AS4_SIG_NOT_COVERED',
    );
  });

  it('fails when a header value changes', () => {
    const xml = signedXml().replace('<eb:Action>Deliver<', '<eb:Action>Steal<');
    expect(verifyEnvelope(parseXml(xml), attachments, { trust }).findings.map((f) => f.code)).toContain(
      'AS4_SIG_DIGEST_MISMATCH',
    );
  });

  it('refuses signature wrapping: signed Messaging moved into a wrapper header, forged one in its place', () => {
    const xml = signedXml();
    const doc = parseXml(xml);
    const header = doc.documentElement!.getElementsByTagNameNS(
      'http://www.w3.org/2003/05/soap-envelope',
      'Header',
    )[0]!;
    const original = doc.getElementsByTagNameNS(
      'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/',
      'Messaging',
    )[0]!;
    const forged = original.cloneNode(true) as Element;
    forged.removeAttributeNS(
      'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
      'Id',
    );
    forged.getElementsByTagNameNS(
      'http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/',
      'Action',
    )[0]!.textContent = 'Steal';
    const wrapper = doc.createElementNS('urn:attacker', 'w:Wrapper');
    header.replaceChild(forged, original);
    wrapper.appendChild(original);
    header.appendChild(wrapper);
    const result = verifyEnvelope(parseXml(serializeXml(doc)), attachments, { trust });
    expect(result.valid).toBe(false);
    expect(result.findings.map((f) => f.code)).toEqual(
      expect.arrayContaining(['AS4_SIG_WRAPPING', 'AS4_SIG_NOT_COVERED']),
    );
  });

  it('refuses a duplicate wsu:Id', () => {
    const xml = signedXml().replace(
      '</env:Header>',
      '<x:Dup xmlns:x="urn:x" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" wsu:Id="id-messaging"/></env:Header>',
    );
    expect(verifyEnvelope(parseXml(xml), attachments, { trust }).findings.map((f) => f.code)).toContain(
      'AS4_SIG_DUPLICATE_ID',
    );
  });

  it('refuses a signer outside the trust store and one that is not the expected certificate', () => {
    const foreign = foreignTestPki();
    const doc = buildUserMessageEnvelope(sampleMessage('m1@qerds', []));
    signEnvelope(doc, [], sealIdentity(foreign, 'c2'));
    const xml = serializeXml(doc);
    expect(verifyEnvelope(parseXml(xml), [], { trust }).findings.map((f) => f.code)).toContain(
      'AS4_SIG_UNTRUSTED',
    );
    expect(
      verifyEnvelope(parseXml(signedXml([])), [], { expectedCertificate: c3.certificate }).findings.map(
        (f) => f.code,
      ),
    ).toContain('AS4_SIG_UNEXPECTED_SIGNER');
    expect(
      verifyEnvelope(parseXml(signedXml([])), [], {
        expectedCertificate: new X509Certificate(readFileSync(pki.ap('c2').sealCert)),
      }).valid,
    ).toBe(true);
  });

  it('reports a missing signature', () => {
    const xml = serializeXml(buildUserMessageEnvelope(sampleMessage('m1@qerds', [])));
    expect(verifyEnvelope(parseXml(xml), [], { trust }).findings.map((f) => f.code)).toEqual([
      'AS4_SIGNATURE_MISSING',
    ]);
  });

  it('builds an NRR receipt that copies the signed references and verifies', () => {
    const doc = parseXml(signedXml());
    const v = verifyEnvelope(doc, attachments, { trust });
    const receipt = parseXml(serializeXml(buildReceipt(doc, v.references, c3)));
    const rv = verifyEnvelope(receipt, [], { trust, expectedCertificate: c3.certificate });
    expect(rv.valid).toBe(true);
    const copied = receipt.getElementsByTagNameNS(
      'http://docs.oasis-open.org/ebxml-bp/ebbp-signals-2.0',
      'MessagePartNRInformation',
    );
    expect(copied.length).toBe(5);
  });
});

describe('exclusive C14N', () => {
  it('orders namespace declarations by code point (S12 before eb) and drops unused ones', () => {
    const doc = parseXml(
      '<S12:E xmlns:S12="urn:s" xmlns:eb="urn:eb" xmlns:unused="urn:u"><eb:M S12:mu="true" eb:b="1" a="2"/></S12:E>',
    );
    const m = doc.documentElement!.firstChild as Element;
    expect(canonicalize(m)).toBe(
      '<eb:M xmlns:S12="urn:s" xmlns:eb="urn:eb" a="2" eb:b="1" S12:mu="true"></eb:M>',
    );
  });

  it('honours an InclusiveNamespaces PrefixList, #default included, without touching the document', () => {
    const doc = parseXml('<r xmlns="urn:d" xmlns:p="urn:p" xmlns:q="urn:q"><x:e xmlns:x="urn:x"/></r>');
    const e = doc.documentElement!.firstChild as Element;
    expect(canonicalize(e, ['p'])).toBe('<x:e xmlns:p="urn:p" xmlns:x="urn:x"></x:e>');
    expect(canonicalize(e, ['#default', 'q'])).toBe(
      '<x:e xmlns="urn:d" xmlns:q="urn:q" xmlns:x="urn:x"></x:e>',
    );
    expect(serializeXml(doc)).toBe(
      '<r xmlns="urn:d" xmlns:p="urn:p" xmlns:q="urn:q"><x:e xmlns:x="urn:x"/></r>',
    );
  });
});
