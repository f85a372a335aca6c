import { describe, expect, it } from 'vitest';
import { buildUserMessageEnvelope } from '../../src/as4/message/envelope-build.js';
import { NS } from '../../src/as4/model/namespaces.js';
import { signEnvelope } from '../../src/as4/security/ws-security-sign.js';
import { verifyEnvelope } from '../../src/as4/security/ws-security-verify.js';
import { parseXml } from '../../src/as4/message/xml-util.js';
import { serializeXml, parseXmlStrict } from '../../src/xml/index.js';
import type { Attachment } from '../../src/as4/model/types.js';
import { anchorTrustStore, sampleMessage, sealIdentity } from '../interop/as4-helpers.js';
import { sharedTestPki } from '../helpers/pki.js';

/**
 * Hostile XML. Structure beyond the limits is refused as it is read (the
 * caller's error code, e.g. AS4_EBMS_0009), the scanner is not fooled by markup-like text, and a document within
 * the limits still parses. An unsigned wsu:Timestamp with unreadable dates is a WS-Security error.
 */
describe('XML structural limits', () => {
  const refusedWith = (xml: string, limits = {}) => {
    try {
      parseXmlStrict(xml, 'BAD_REQUEST', { what: 'document', limits });
    } catch (error) {
      return error as { code: string; message: string };
    }
    return undefined;
  };

  it("refuses 100 000-deep nesting with the caller's code instead of overflowing the stack", () => {
    const error = refusedWith(`${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}`);
    expect(error?.code).toBe('BAD_REQUEST');
    expect(error?.message).toBe('document exceeds a structural limit: elements nested deeper than 256');
  });

  it('refuses too many elements, attributes on one element, attributes in all, and characters', () => {
    expect(refusedWith(`<r>${'<e/>'.repeat(11)}</r>`, { maxElements: 10 })?.message).toContain(
      'more than 10 elements',
    );
    expect(
      refusedWith(`<r${Array.from({ length: 300 }, (_, i) => ` a${i}="1"`).join('')}/>`)?.message,
    ).toContain('more than 256 attributes on one element');
    expect(refusedWith(`<r>${'<e a="1" b="2"/>'.repeat(6)}</r>`, { maxAttributes: 10 })?.message).toContain(
      'more than 10 attributes',
    );
    expect(refusedWith(`<r>${'x'.repeat(101)}</r>`, { maxChars: 100 })?.message).toContain(
      'more than 100 characters',
    );
  });

  it('counts only markup: > in attribute values, comments, CDATA and processing instructions are not elements', () => {
    const xml = `<?xml version="1.0"?><r a="x > y" b='&lt;'><!-- <e/><e/><e/> --><![CDATA[<e/><e/><e/>]]><?pi <e/> ?><e/></r>`;
    const limits = { maxElements: 2, maxDepth: 2 };
    expect(
      parseXmlStrict(xml, 'BAD_REQUEST', { limits, allowProcessingInstructions: true }).documentElement
        .localName,
    ).toBe('r');
    expect(refusedWith(`<r><e><f/></e></r>`, { maxDepth: 2 })?.message).toMatch(/deeper than 2/);
    // A document within the limits parses.
    expect(parseXmlStrict('<r a="x &gt; y"><e/></r>', 'BAD_REQUEST').documentElement.localName).toBe('r');
  });
});

describe('unsigned wsu:Timestamp with unreadable dates', () => {
  const pki = sharedTestPki();
  const trust = anchorTrustStore(pki.caCert);
  const attachments: Attachment[] = [
    { contentId: 'p@qerds', contentType: 'application/octet-stream', body: Buffer.from('payload') },
  ];

  /** A signed envelope with an extra, unsigned wsu:Timestamp in its Security header. */
  const withTimestamp = (created: string, expires: string) => {
    const doc = buildUserMessageEnvelope(sampleMessage('ts@qerds', attachments));
    signEnvelope(doc, attachments, sealIdentity(pki, 'c2'));
    const security = doc.getElementsByTagNameNS(NS.wsse, 'Security')[0]!;
    const ts = doc.createElementNS(NS.wsu, 'wsu:Timestamp');
    for (const [name, value] of [
      ['Created', created],
      ['Expires', expires],
    ] as const) {
      const el = doc.createElementNS(NS.wsu, `wsu:${name}`);
      el.appendChild(doc.createTextNode(value));
      ts.appendChild(el);
    }
    security.insertBefore(ts, security.firstChild);
    return parseXml(serializeXml(doc));
  };

  it('is refused with AS4_SIG_TIMESTAMP (garbage used to compare as NaN and pass)', () => {
    for (const [created, expires] of [
      ['yesterday', 'tomorrow'],
      ['2026-13-45T99:99:99Z', '9999-99-99T00:00:00Z'],
      ['2026-12-07T10:00:00', '2026-12-07T10:05:00'],
    ]) {
      const result = verifyEnvelope(withTimestamp(created!, expires!), attachments, { trust });
      expect(result.valid).toBe(false);
      expect(result.findings.filter((f) => f.severity === 'error').map((f) => f.code)).toContain(
        'AS4_SIG_TIMESTAMP',
      );
    }
  });

  it('Expires before Created is refused; readable current dates pass', () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    expect(
      verifyEnvelope(withTimestamp(iso(now), iso(now - 1000)), attachments, { trust }).findings.map(
        (f) => f.message,
      ),
    ).toContain('wsu:Timestamp Expires is before Created');
    const ok = verifyEnvelope(withTimestamp(iso(now - 1000), iso(now + 300_000)), attachments, { trust });
    expect(ok.valid).toBe(true);
  });
});
