import { beforeAll, describe, expect, it } from 'vitest';
import { evidenceEvents, type EvidenceData } from '../../src/core/index.js';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import { issueEvidence, verifyEvidence, xadesSealer, type SubIndication } from '../../src/evidence/index.js';
import { loadSigningIdentity, loadTrustStore, type TrustStore } from '../../src/pki/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { oneOfEachEvent } from './one-of-each-event.js';

/**
 * The systematic half of the tampering suite (tampering.test.ts has the named cases): every event type we issue,
 * sealed once at B-T, then for every text node and every attribute value in what the seal covers (the evidence,
 * with every extension we write, and the XAdES SignedProperties), and in SignedInfo and SignatureValue, one
 * character changed: each variant must be TOTAL-FAILED with HASH_FAILURE or SIG_CRYPTO_FAILURE, and must not
 * be read as evidence. KeyInfo and the unsigned properties are outside this sweep (not signed content; their
 * cases are in tampering.test.ts).
 */

type Region = 'evidence' | 'SignedProperties' | 'SignedInfo' | 'SignatureValue';

/**
 * What a change in each place must give. The evidence (with its extensions) and the signed properties sit under
 * a reference: their digest no longer matches while the signature over SignedInfo still does (HASH_FAILURE), and
 * nothing of the changed evidence may be returned. SignedInfo is what the signature value signs (a changed
 * DigestValue also mismatches its reference); the SignatureTimeStamp covers the SignatureValue, so its imprint
 * may be what is reported. Two kinds of change break the structure of the signature rather than its crypto:
 * an Id or URI that links a reference to its target (FORMAT_FAILURE: the reference no longer resolves), and an
 * algorithm URI in SignedInfo (an algorithm or transform we do not support: FORMAT_FAILURE or INDETERMINATE).
 * For those the sweep asserts only that nothing passes.
 */
function expectation(
  region: Region,
  what: string,
): { readonly sub: readonly SubIndication[] } | 'not-passed' {
  if (region === 'SignedInfo' && /\/@(Algorithm|URI)$/.test(what)) return 'not-passed';
  if (region === 'SignedProperties' && what === 'xades:SignedProperties/@Id')
    return { sub: ['FORMAT_FAILURE'] };
  if (region === 'evidence' || region === 'SignedProperties') return { sub: ['HASH_FAILURE'] };
  return { sub: ['SIG_CRYPTO_FAILURE', 'HASH_FAILURE'] };
}

interface Variant {
  /** `element/@attribute` or `element/text()`, and the offset of the changed character. */
  readonly what: string;
  readonly at: number;
  readonly region: Region;
  readonly xml: string;
}

/** One alphanumeric character replaced by another: one byte, the document stays well-formed. */
function otherChar(c: string): string {
  if (c >= '0' && c <= '8') return String.fromCharCode(c.charCodeAt(0) + 1);
  if (c === '9') return '0';
  if (c === 'z') return 'a';
  if (c === 'Z') return 'A';
  return String.fromCharCode(c.charCodeAt(0) + 1);
}

/**
 * The index in [start, end) of the character to change: the digit nearest the middle (so that a date or a
 * number stays well-typed and the change reaches the digest check), else the nearest letter; never one inside
 * an entity reference.
 */
function pickIndex(xml: string, start: number, end: number): number | undefined {
  return nearest(xml, start, end, /[0-9]/) ?? nearest(xml, start, end, /[A-Za-z]/);
}

function nearest(xml: string, start: number, end: number, wanted: RegExp): number | undefined {
  const inEntity = new Set<number>();
  for (const m of xml.slice(start, end).matchAll(/&[#\w]+;/g))
    for (let k = 0; k < m[0].length; k++) inEntity.add(start + m.index + k);
  const mid = Math.floor((start + end) / 2);
  for (let d = 0; d < end - start; d++) {
    for (const i of [mid - d, mid + d]) {
      if (i >= start && i < end && wanted.test(xml[i]!) && !inEntity.has(i)) return i;
    }
  }
  return undefined;
}

/** The signed regions of a sealed evidence as [start, end) offsets (everything outside ds:Signature is the evidence). */
function regionOf(xml: string, at: number): Region | undefined {
  const span = (open: string, close: string): [number, number] => {
    const s = xml.indexOf(open);
    const e = xml.indexOf(close, s);
    if (s < 0 || e < 0) throw new Error(`no ${open}`);
    return [s, e + close.length];
  };
  const within = ([s, e]: [number, number]) => at >= s && at < e;
  const signature = span('<ds:Signature ', '</ds:Signature>');
  if (!within(signature)) return 'evidence';
  if (within(span('<ds:SignedInfo>', '</ds:SignedInfo>'))) return 'SignedInfo';
  if (within(span('<ds:SignatureValue', '</ds:SignatureValue>'))) return 'SignatureValue';
  if (within(span('<xades:SignedProperties', '</xades:SignedProperties>'))) return 'SignedProperties';
  return undefined;
}

/** One variant per text node and per attribute value inside the signed regions (namespace declarations included). */
function variants(xml: string): Variant[] {
  const out: Variant[] = [];
  const body = xml.indexOf('<', xml.indexOf('?>') + 2); // after the XML declaration, which nothing signs
  const add = (what: string, start: number, end: number) => {
    const region = regionOf(xml, start);
    if (!region || start < body) return;
    const i = pickIndex(xml, start, end);
    if (i === undefined) return;
    out.push({ what, at: i, region, xml: `${xml.slice(0, i)}${otherChar(xml[i]!)}${xml.slice(i + 1)}` });
  };
  for (const tag of xml.matchAll(/<([\w:.-]+)((?:\s+[\w:.-]+="[^"]*")*)\s*\/?>/g)) {
    for (const attr of tag[2]!.matchAll(/([\w:.-]+)="([^"]*)"/g)) {
      const start = tag.index + 1 + tag[1]!.length + attr.index + attr[1]!.length + 2;
      add(`${tag[1]}/@${attr[1]}`, start, start + attr[2]!.length);
    }
  }
  for (const text of xml.matchAll(/<([\w:.-]+)[^>]*>([^<]+)</g)) {
    const start = text.index + text[0].length - 1 - text[2]!.length;
    add(`${text[1]}/text()`, start, start + text[2]!.length);
  }
  return out;
}

describe('tampering sweep: one character changed in every text node and attribute of every event type', () => {
  let trust: TrustStore;
  const issued = new Map<string, { data: EvidenceData; xml: string }>();

  beforeAll(async () => {
    const pki = sharedTestPki();
    trust = loadTrustStore([pki.caCert, pki.caCrl]);
    const identity = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey); // the seal of the issuer the events name (samples.json: C2)
    const tsa = createLocalTsaClient(
      createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) }),
    );
    const sealer = xadesSealer({
      identity,
      tsa,
      clock: { now: () => new Date() },
      idGenerator: sequentialIdGenerator(),
    });
    for (const { name, data } of oneOfEachEvent())
      issued.set(name, { data, xml: (await issueEvidence(data, sealer)).xml });
  }, 120_000);

  it('the sweep reaches every structure: each extension, both assurance-level forms, ExternalERDSDetails, SignedProperties', () => {
    const all = [...issued.values()].flatMap(({ xml }) => variants(xml).map((v) => v.what));
    for (const expected of [
      'qx:PreviousEvidence/text()',
      'qx:PlaintextDigest/@PartId',
      'qx:PlaintextDigest/text()',
      'qx:SealedOnBehalf/@Format',
      'qx:SealedOnBehalf/@SubmittedDigest',
      'qx:SealedOnBehalf/@CertificateDigest',
      'AssuranceLevel/text()',
      'AuthenticationTime/text()',
      'Identifier/@IdentifierSchemeName',
      'Details/text()',
      'Code/text()',
      'EventTime/text()',
      'saml:AttributeValue/text()',
      'saml:Attribute/@Name',
      'ev:Evidence/@Id',
      'ev:Evidence/@version',
      'ev:Evidence/@xmlns:ev',
      'ds:DigestValue/text()',
      'xades:SigningTime/text()',
      'xades:MimeType/text()',
      'ds:SignatureValue/text()',
    ]) {
      expect(all, expected).toContain(expected);
    }
  });

  it.each([...evidenceEvents])(
    '%s: every one-character change is TOTAL-FAILED, HASH_FAILURE or SIG_CRYPTO_FAILURE',
    async (event) => {
      const { xml } = issued.get(event)!;
      expect((await verifyEvidence(xml, { trust })).indication).toBe('TOTAL-PASSED');
      const list = variants(xml);
      expect(list.length).toBeGreaterThan(60);
      const wrong: string[] = [];
      for (const v of list) {
        expect(v.xml.length).toBe(xml.length);
        const r = await verifyEvidence(v.xml, { trust });
        const want = expectation(v.region, v.what);
        const ok =
          want === 'not-passed'
            ? r.indication !== 'TOTAL-PASSED'
            : r.indication === 'TOTAL-FAILED' &&
              r.subIndication !== undefined &&
              want.sub.includes(r.subIndication) &&
              (v.region !== 'evidence' || r.evidence === undefined);
        if (!ok)
          wrong.push(
            `${v.region} ${v.what} @${v.at}: ${r.indication} ${r.subIndication ?? ''} ${r.findings
              .filter((f) => f.severity === 'error')
              .map((f) => f.code)
              .join(',')}`,
          );
      }
      expect(wrong).toEqual([]);
      // Most variants are content changes, held to HASH_FAILURE exactly.
      expect(list.filter((v) => v.region === 'evidence').length).toBeGreaterThan(list.length / 2);
    },
    300_000,
  );
});
