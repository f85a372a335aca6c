import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bodyXml, messagingXml, userMessageXml } from '../../src/as4/message/envelope-build.js';
import { locateSoapParts } from '../../src/as4/message/envelope-parse.js';
import { decodeMultipart } from '../../src/as4/message/multipart-stream.js';
import { buildErrorSignal, receiptXml } from '../../src/as4/message/signals.js';
import { packUserMessage } from '../../src/as4/message/user-message-pack.js';
import { parseXml } from '../../src/as4/message/xml-util.js';
import { NS } from '../../src/as4/model/namespaces.js';
import type { Attachment, SoapVersion, UserMessage, VerifiedReference } from '../../src/as4/model/types.js';
import { decryptAttachments } from '../../src/as4/security/attachment-encryption.js';
import { signedEnvelopeXml } from '../../src/as4/security/ws-security-sign.js';
import { verifyEnvelope } from '../../src/as4/security/ws-security-verify.js';
import type { SigningIdentity } from '../../src/pki/types.js';
import { canonicalize } from '../../src/xml/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { anchorTrustStore, opensslAs4v2Identities, sealIdentity } from './as4-helpers.js';

/*
 * The AS4 envelopes we send are written as text, eb:Messaging, env:Body and ds:SignedInfo in their Exclusive C14N
 * form (no DOM, no canonicalizer: envelope-build.ts, ws-security-sign.ts, signals.ts). Here, for generated
 * messages full of hostile values (markup characters, CR/LF/TAB, non-ASCII, long ids, every optional part
 * present and absent) and both eDelivery algorithm sets (1.15 RSA, 2.0 Ed25519 + X25519): the octets digested
 * and signed equal our exc-c14n of the element parsed out of the envelope, and libxml2 (xmllint), xmlsec1 and
 * the independent Python peer (its own C14N) agree.
 */
const here = dirname(fileURLToPath(import.meta.url));
const pki = sharedTestPki();
const trust = anchorTrustStore(pki.caCert);
const rsa = { signing: sealIdentity(pki, 'c2'), receiver: sealIdentity(pki, 'c3') };
const v2Sender = opensslAs4v2Identities(pki, 'CanonC2');
const v2Receiver = opensslAs4v2Identities(pki, 'CanonC3');
const keySets = [
  { name: 'eDelivery 1.15 (RSA)', signing: rsa.signing, encryption: rsa.receiver },
  { name: 'eDelivery 2.0 (Ed25519, X25519)', signing: v2Sender.signing, encryption: v2Receiver.encryption },
] as const;

const hostileChar = fc.constantFrom(
  ...['&', '<', '>', '"', "'", '\r', '\n', '\t', ' ', 'a', 'Z', '0', '=', ':', '#', ']]>', '--', '&amp;'],
  ...['é', '中', '😀', '\u00a0', '\u2028', '\ufffd', '\ue000', '\u{10ffff}'],
);
const hostile = (maxLength = 24) => fc.array(hostileChar, { maxLength }).map((a) => a.join(''));
const id = fc.oneof(
  hostile(),
  fc.integer({ min: 200, max: 2000 }).chain((n) => hostile(8).map((h) => `${'i'.repeat(n)}${h}`)),
);
const property = fc.record(
  { name: hostile(), value: hostile(), type: hostile() },
  { requiredKeys: ['name', 'value'] },
);
const party = fc.record(
  { partyId: id, partyIdType: hostile(), role: hostile() },
  { requiredKeys: ['partyId', 'role'] },
);
const userMessage: fc.Arbitrary<UserMessage> = fc.record(
  {
    // A receipt acknowledges a MessageId with text (receiptXml refuses a blank one).
    messageId: id.map((s) => `m${s}`),
    timestamp: fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
    refToMessageId: id,
    from: party,
    to: party,
    collaboration: fc.record(
      {
        agreementRef: hostile(),
        service: hostile(),
        serviceType: hostile(),
        action: hostile(),
        conversationId: id,
      },
      { requiredKeys: ['service', 'action', 'conversationId'] },
    ),
    messageProperties: fc.array(property, { maxLength: 3 }),
    payloads: fc.array(
      fc.record({ href: hostile(), mimeType: hostile(), properties: fc.array(property, { maxLength: 2 }) }),
      { maxLength: 3 },
    ),
  },
  {
    requiredKeys: ['messageId', 'timestamp', 'from', 'to', 'collaboration', 'messageProperties', 'payloads'],
  },
);
const attachmentsOf = (minLength: number): fc.Arbitrary<Attachment[]> =>
  fc.array(fc.uint8Array({ maxLength: 64 }), { minLength, maxLength: 2 }).map((bodies) =>
    bodies.map((b, i) => ({
      contentId: `part-${i}@qerds`,
      contentType: 'application/octet-stream',
      body: Buffer.from(b),
    })),
  );
const attachments = attachmentsOf(0);

const elementText = (xml: string, qname: string): string => {
  const start = Math.max(xml.indexOf(`<${qname} `), xml.indexOf(`<${qname}>`));
  const endTag = `</${qname}>`;
  const end = xml.lastIndexOf(endTag);
  if (start < 0 || end < 0) throw new Error(`no ${qname} in the envelope`);
  return xml.slice(start, end + endTag.length);
};

/** The canonical text as the envelope carries it: NEL, LS, PS as character references (envelopeXml). */
const asSent = (canonical: string): string =>
  canonical.replace(/[\u0085\u2028\u2029]/g, (c) => `&#x${c.charCodeAt(0).toString(16).toUpperCase()};`);
const fromSent = (text: string): string =>
  text.replace(/&#x(85|2028|2029);/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/** ds:SignedInfo of an envelope, with the ds declaration its canonical form has (it is on ds:Signature). */
const signedInfoText = (xml: string): string =>
  elementText(xml, 'ds:SignedInfo').replace('<ds:SignedInfo>', `<ds:SignedInfo xmlns:ds="${NS.ds}">`);

/**
 * The signed parts of an envelope we wrote: each is a substring of the text equal to what was digested (the
 * caller's `messaging`/`body`, or ds:SignedInfo), and our exc-c14n of the element parsed out of the envelope
 * gives exactly those octets; the signature verifies.
 */
function expectCanonicalParts(
  xml: string,
  written: { messaging: string; body: string },
  signer: SigningIdentity,
  sent: readonly Attachment[] = [],
): Document {
  expect(xml).toContain(asSent(written.messaging));
  expect(xml).toContain(asSent(written.body));
  const doc = parseXml(xml);
  const parts = locateSoapParts(doc);
  expect(canonicalize(parts.messaging)).toBe(written.messaging);
  expect(canonicalize(parts.body)).toBe(written.body);
  const signedInfo = doc.getElementsByTagNameNS(NS.ds, 'SignedInfo');
  expect(signedInfo.length).toBe(1);
  expect(canonicalize(signedInfo[0]!)).toBe(signedInfoText(xml));
  const v = verifyEnvelope(doc, sent, { trust });
  expect(v.valid, JSON.stringify(v.findings)).toBe(true);
  expect(v.signer?.raw.equals(signer.certificate.raw)).toBe(true);
  return doc;
}

/** libxml2's exclusive C14N of `text` as a document: canonical text comes back unchanged. */
function xmllintExcC14n(text: string): string {
  const r = spawnSync('xmllint', ['--exc-c14n', '-'], { input: text, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

/** Foreign ds:Reference elements a receipt copies as received: other prefixes, a default namespace, comments, CDATA, redeclared prefixes. */
const FOREIGN_REFERENCES = `<w:wrap xmlns:w="urn:w" xmlns:unused="urn:unused" xmlns:ds="${NS.ds}">
<dsig:Reference xmlns:dsig="${NS.ds}" xmlns:wsu="${NS.wsu}" wsu:Id="r&amp;1" URI="#a&amp;b&#9;&#10;c"><!-- comment --><dsig:DigestValue><![CDATA[x<y>&z]]>&#13;</dsig:DigestValue></dsig:Reference>
<Reference xmlns="${NS.ds}" URI="#x"><Transforms><Transform Algorithm="${NS.ec}"><ec:InclusiveNamespaces xmlns:ec="${NS.ec}" PrefixList="env eb"/></Transform></Transforms><Foo xmlns="">t é</Foo></Reference>
<eb:Reference xmlns:eb="${NS.ds}" xmlns:env="${NS.soap12}" xmlns:ebbp="urn:other-ebbp" env:role="r" ebbp:x="1" xml:lang="en"><ds:DigestValue>AAAA</ds:DigestValue></eb:Reference>
<ds:Reference URI="" xmlns:wsu="${NS.wsu}" wsu:Id="same-as-messaging"><ds:DigestMethod Algorithm="${NS.ds}sha256"/></ds:Reference>
</w:wrap>`;

describe('AS4 envelopes written in canonical form', () => {
  for (const keys of keySets) {
    it(`signed UserMessage envelopes: digested octets = exc-c14n of the parsed parts, ${keys.name}`, () => {
      fc.assert(
        fc.property(userMessage, attachments, (message, atts) => {
          const messaging = messagingXml('1.2', userMessageXml(message));
          const body = bodyXml('1.2');
          const { xml } = signedEnvelopeXml('1.2', messaging, body, keys.signing, atts);
          expectCanonicalParts(xml, { messaging, body }, keys.signing, atts);
        }),
        { numRuns: 60 },
      );
    });

    it(`packUserMessage (signed, then encrypted) opens and verifies, with the messaging we digested, ${keys.name}`, () => {
      fc.assert(
        fc.property(userMessage, attachments, (message, atts) => {
          const payloads = atts.map((a) => ({
            href: `cid:${a.contentId}`,
            mimeType: a.contentType,
            properties: [],
          }));
          const msg = { ...message, payloads };
          const packed = packUserMessage({
            message: msg,
            attachments: atts,
            identity: keys.signing,
            encryptFor: keys.encryption.certificate,
          });
          const mime = decodeMultipart(packed.contentType, packed.body);
          const doc = parseXml(mime.envelope);
          const decrypted = decryptAttachments(doc, mime.attachments, [keys.encryption]);
          expect(decrypted.encrypted).toHaveLength(atts.length);
          const v = verifyEnvelope(doc, decrypted.attachments, { trust });
          expect(v.valid).toBe(true);
          expect(v.references.map((r) => r.digestValue)).toEqual(packed.references.map((r) => r.digestValue));
          expect(canonicalize(locateSoapParts(doc).messaging)).toBe(messagingXml('1.2', userMessageXml(msg)));
        }),
        { numRuns: 15 },
      );
    });
  }

  it('receipts: the copied references (ours and foreign ones) are written in their canonical form in context', () => {
    const foreign = parseXml(FOREIGN_REFERENCES);
    const foreignRefs: VerifiedReference[] = Array.from(
      foreign.getElementsByTagNameNS(NS.ds, 'Reference'),
    ).map((element) => ({ uri: '', transforms: [], digestMethod: '', digestValue: '', element }));
    expect(foreignRefs).toHaveLength(4);
    fc.assert(
      fc.property(
        userMessage,
        fc.constantFrom<SoapVersion>('1.1', '1.2'),
        fc.boolean(),
        (message, v, nrr) => {
          const messaging = messagingXml(v, userMessageXml(message));
          const signed = signedEnvelopeXml(v, messaging, bodyXml(v), rsa.signing);
          const incoming = parseXml(signed.xml);
          const verified = verifyEnvelope(incoming, [], { trust });
          expect(verified.valid).toBe(true);
          const refs = nrr ? [...verified.references, ...foreignRefs] : [];
          const receipt = receiptXml(incoming, refs, rsa.receiver, { soapVersion: v });
          const written = { messaging: fromSent(elementText(receipt, 'eb:Messaging')), body: bodyXml(v) };
          const doc = expectCanonicalParts(receipt, written, rsa.receiver);
          const copies = doc.getElementsByTagNameNS(NS.ebbp, 'MessagePartNRInformation');
          expect(copies.length).toBe(refs.length);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('error signals, SOAP 1.1 and 1.2, with hostile detail', () => {
    fc.assert(
      fc.property(
        id,
        hostile(60),
        fc.constantFrom<SoapVersion>('1.1', '1.2'),
        fc.constantFrom('EBMS:0004', 'EBMS:0103', 'EBMS:0006') as fc.Arbitrary<'EBMS:0004'>,
        (refTo, detail, v, code) => {
          const xml = buildErrorSignal(refTo, code, detail, rsa.signing, { soapVersion: v });
          const written = {
            messaging: fromSent(elementText(xml, 'eb:Messaging')),
            body: fromSent(elementText(xml, 'env:Body')),
          };
          expectCanonicalParts(xml, written, rsa.signing);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a character XML 1.0 cannot carry is refused, not written', () => {
    for (const bad of ['\u0001', '\ud800', 'a\udc00', '\uffff']) {
      const message = { ...sampleLike(), messageId: `m${bad}@qerds` };
      expect(() => messagingXml('1.2', userMessageXml(message))).toThrow(/not allowed in XML 1.0/);
    }
  });

  it('libxml2 (xmllint --exc-c14n) gives back every canonical part unchanged', () => {
    const samples = fc.sample(fc.tuple(userMessage, fc.constantFrom(...keySets)), { numRuns: 6, seed: 17 });
    for (const [message, keys] of samples) {
      const messaging = messagingXml('1.2', userMessageXml(message));
      const body = bodyXml('1.2');
      const { xml } = signedEnvelopeXml('1.2', messaging, body, keys.signing);
      const receipt = receiptXml(parseXml(xml), [], rsa.receiver);
      for (const part of [
        messaging,
        body,
        signedInfoText(xml),
        fromSent(elementText(receipt, 'eb:Messaging')),
      ])
        expect(xmllintExcC14n(part)).toBe(part);
    }
  });

  it('xmlsec1 verifies the signature of generated envelopes and receipts, exactly as written', () => {
    const samples = fc.sample(userMessage, { numRuns: 4, seed: 5 });
    const foreign = parseXml(FOREIGN_REFERENCES);
    const foreignRefs: VerifiedReference[] = Array.from(
      foreign.getElementsByTagNameNS(NS.ds, 'Reference'),
    ).map((element) => ({ uri: '', transforms: [], digestMethod: '', digestValue: '', element }));
    for (const message of samples) {
      const { xml } = signedEnvelopeXml(
        '1.2',
        messagingXml('1.2', userMessageXml(message)),
        bodyXml('1.2'),
        rsa.signing,
      );
      expect(xmlsecVerify(xml).ok).toBe(true);
      const incoming = parseXml(xml);
      const refs = verifyEnvelope(incoming, [], { trust }).references;
      const receipt = receiptXml(incoming, [...refs, ...foreignRefs], rsa.receiver);
      const good = xmlsecVerify(receipt);
      expect(good.output).toContain('SignedInfo References (ok/all): 2/2');
      expect(good.ok).toBe(true);
      // One octet of a copied foreign reference changed: xmlsec1 must see the digest of eb:Messaging fail.
      expect(xmlsecVerify(receipt.replace('t é', 't e')).ok).toBe(false);
    }
  });

  it('the independent Python peer (its own C14N) opens generated eDelivery 2.0 messages', () => {
    const samples = fc.sample(fc.tuple(userMessage, attachmentsOf(1)), { numRuns: 3, seed: 11 });
    for (const [message, atts] of samples) {
      const payloads = atts.map((a) => ({
        href: `cid:${a.contentId}`,
        mimeType: a.contentType,
        properties: [],
      }));
      const packed = packUserMessage({
        message: { ...message, payloads },
        attachments: atts,
        identity: v2Sender.signing,
        encryptFor: v2Receiver.encryption.certificate,
      });
      const dir = mkdtempSync(join(tmpdir(), 'qerds-canon-py-'));
      writeFileSync(join(dir, 'message.mime'), packed.body);
      const run = spawnSync(
        process.env.QERDS_PYTHON ?? 'python3',
        [
          join(here, 'edelivery2_peer.py'),
          'open',
          join(dir, 'message.mime'),
          packed.contentType,
          join(v2Receiver.dir, 'enc.key.pem'),
          join(v2Sender.dir, 'sig.crt.pem'),
          dir,
        ],
        { encoding: 'utf8' },
      );
      const report = JSON.parse(run.stdout || '{}') as {
        signatureValid?: boolean;
        references?: Record<string, boolean>;
      };
      expect(run.status, `${run.stderr}\n${run.stdout}`).toBe(0);
      expect(report.signatureValid).toBe(true);
      expect(Object.values(report.references ?? {})).toHaveLength(2 + atts.length);
      expect(Object.values(report.references ?? {}).every(Boolean)).toBe(true);
    }
  });
});

function sampleLike(): UserMessage {
  return fc.sample(userMessage, { numRuns: 1, seed: 1 })[0]!;
}

// libxml2 knows no ID attributes without a DTD: tell xmlsec1 which attribute named Id identifies eb:Messaging
// and the SOAP 1.2 Body. It cannot resolve the wsse:SecurityTokenReference, so it gets the certificate of the
// BinarySecurityToken (as test/interop/as4-xmlsec.test.ts does), checked against the CA by openssl.
function xmlsecVerify(xml: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'qerds-canon-xmlsec-'));
  const b64 = /<wsse:BinarySecurityToken[^>]*>([^<]+)</.exec(xml)?.[1];
  if (!b64) throw new Error('no BinarySecurityToken');
  const cert = join(dir, 'bst.crt.pem');
  writeFileSync(cert, new X509Certificate(Buffer.from(b64, 'base64')).toString());
  writeFileSync(join(dir, 'signed.xml'), xml);
  const chain = spawnSync('openssl', ['verify', '-CAfile', pki.caCert, cert], { encoding: 'utf8' });
  const r = spawnSync(
    'xmlsec1',
    [
      '--verify',
      '--pubkey-cert-pem',
      cert,
      '--id-attr:Id',
      `${NS.eb}:Messaging`,
      '--id-attr:Id',
      `${NS.soap12}:Body`,
      join(dir, 'signed.xml'),
    ],
    { encoding: 'utf8' },
  );
  return { ok: chain.status === 0 && r.status === 0, output: `${r.stdout}${r.stderr}` };
}
