import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceData, IdGenerator, TsaClient } from '../../src/core/index.js';
import { evidenceEvents } from '../../src/core/index.js';
import { sequentialIdGenerator } from '../../src/core/ids.js';
import { writeEvidence } from '../../src/evidence/build-evidence.js';
import {
  EVENT_REASONS,
  issueEvidence,
  NEGATIVE_EVENTS,
  parseEvidenceXml,
  verifyEvidence,
  xadesSealer,
} from '../../src/evidence/index.js';
import {
  asSigner,
  loadSigningIdentity,
  loadTrustStore,
  type Signer,
  type SigningIdentity,
} from '../../src/pki/index.js';
import { indexIds } from '../../src/seal/references.js';
import { sealWrittenXml, sealXml, type XadesSealOptions } from '../../src/seal/index.js';
import { createLocalTsaClient, createTimestampAuthority } from '../../src/timestamp/index.js';
import { canonicalize, parseXmlStrict } from '../../src/xml/index.js';
import { buildEvidenceDocument } from '../helpers/evidence-dom-builder.js';
import { sharedTestPki } from '../helpers/pki.js';
import { opensslEcSeal, xmlsecVerify } from '../helpers/xmlsec.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { oneOfEachEvent } from './one-of-each-event.js';

/*
 * Evidence is written as text with its Exclusive C14N form (writeEvidence) and sealed without a DOM
 * (sealWrittenXml). The oracle is the path this replaced, kept in test/helpers/evidence-dom-builder.ts: the xmldom
 * DOM builder, sealed in that DOM by sealXml. On generated evidence full of hostile strings, every optional element
 * present and absent, RSA and EC keys, B-B, B-T and B-LT, with a fixed clock and id generator, a signer and a TSA
 * that answer the same bytes with the same value (recorded): the two give the same bytes (U+0085 and U+2028 raw in
 * both, as XML 1.0 has them: ordinary characters). Beside the oracle: the canonical form and Ids equal a parse's, xmlsec1 and
 * verifyEvidence accept the result, a character XML 1.0 cannot hold is refused before anything is signed.
 */

const pki = sharedTestPki();
const sample = evidenceSamples().SubmissionAcceptance;
// Later than the certificates made while the tests start (the EC seal is made in beforeAll).
const fixed = new Date(Date.now() + 10 * 60_000);
const clock = { now: () => fixed };

/** A signer that gives the same value for the same bytes (ECDSA is randomized), so that two paths compare. */
function recordingSigner(identity: SigningIdentity): Signer & { calls: number } {
  const inner = asSigner(identity);
  const seen = new Map<string, Buffer>();
  const signer = {
    certificate: inner.certificate,
    chain: inner.chain,
    keyType: inner.keyType,
    keyStore: inner.keyStore,
    calls: 0,
    async sign(data: Buffer, options: Parameters<Signer['sign']>[1]): Promise<Buffer> {
      signer.calls++;
      const key = `${options.digest}:${data.toString('hex')}`;
      const known = seen.get(key);
      if (known) return known;
      const value = await inner.sign(data, options);
      seen.set(key, value);
      return value;
    },
  };
  return signer;
}

/** The embedded TSA at the fixed clock, its token recorded by imprint (the request nonce is random). */
function recordingTsa(): TsaClient & { calls: number } {
  const inner = createLocalTsaClient(
    createTimestampAuthority({
      identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey),
      clock,
      serialNumber: () => 1n,
    }),
  );
  const seen = new Map<string, Awaited<ReturnType<TsaClient['timestamp']>>>();
  const tsa = {
    calls: 0,
    async timestamp(imprint: Parameters<TsaClient['timestamp']>[0]) {
      tsa.calls++;
      const key = imprint.digest.toString('hex');
      const known = seen.get(key) ?? (await inner.timestamp(imprint));
      seen.set(key, known);
      return known;
    },
  };
  return tsa;
}

const hostileChar = fc.constantFrom(
  ...['&', '<', '>', '"', "'", '\r', '\n', '\r\n', '\t', ' ', 'a', 'Z', '0', ':', '#', ']]>', '--', '&amp;'],
  ...[
    '&#0;',
    '<!--',
    '<?pi?>',
    'é',
    '中',
    '😀',
    '\u00a0',
    '\ufffd',
    '\ue000',
    '\u{10ffff}',
    '\u2029',
    '\u2028',
    '\u0085',
    '\r\u0085',
  ],
);
const hostile = (maxLength = 16): fc.Arbitrary<string> =>
  fc.array(hostileChar, { maxLength }).map((a) => a.join(''));
/** Hostile text, sometimes long (a few KB). */
const text = fc.oneof(
  { weight: 4, arbitrary: hostile() },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 500, max: 4000 })
      .chain((n) => hostile(6).map((h) => `${h}${'x'.repeat(n)}${h}`)),
  },
);
const nonEmpty = text.map((s) => `m${s}`);
const hex = fc
  .constantFrom(...'0123456789abcdefABCDEF'.split(''))
  .chain((c) =>
    fc
      .array(fc.constantFrom(...'0123456789abcdef'.split('')), { minLength: 63, maxLength: 63 })
      .map((a) => c + a.join('')),
  );
const date = fc.integer({ min: 0, max: 4_102_444_800_000 }).map((t) => new Date(t));
const level = fc.constantFrom(1, 2, 3) as fc.Arbitrary<1 | 2 | 3>;
const identification = fc.record(
  {
    method: text,
    assuranceLevel: text,
    authenticatedAt: date,
    ial: level,
    aal: level,
  },
  { requiredKeys: ['method', 'assuranceLevel', 'authenticatedAt'] },
);
const participant = fc.record(
  { id: fc.record({ scheme: text, value: text }), name: text, identification },
  { requiredKeys: ['id'] },
);
const part = fc.record(
  {
    partId: text,
    contentType: text,
    sha256: hex,
    plaintextSha256: hex,
    sealedOnBehalf: fc.record({ format: text, submittedSha256: hex, certificateSha256: hex }),
  },
  { requiredKeys: ['partId', 'contentType', 'sha256'] },
);
const eventAndReason = fc.constantFrom(...evidenceEvents).chain((event) => {
  const codes = EVENT_REASONS[event];
  if (codes.length === 0) return fc.constant({ event });
  const reason = fc.record({ code: fc.constantFrom(...codes), details: text }, { requiredKeys: ['code'] });
  return NEGATIVE_EVENTS.has(event)
    ? reason.map((r) => ({ event, reason: r }))
    : fc.option(reason, { nil: undefined }).map((r) => (r ? { event, reason: r } : { event }));
});
const evidenceData: fc.Arbitrary<EvidenceData> = fc
  .record(
    {
      id: nonEmpty,
      eventAndReason,
      eventTime: date,
      issuerPolicyIds: fc.array(text, { maxLength: 3 }),
      issuer: fc.record({ name: text, id: text }),
      sender: participant,
      recipient: participant,
      submissionTime: date,
      messageId: nonEmpty,
      parts: fc.array(part, { maxLength: 4 }),
      previousEvidenceId: text,
      externalErds: fc.record({ name: text, id: text }),
    },
    {
      requiredKeys: [
        'id',
        'eventAndReason',
        'eventTime',
        'issuerPolicyIds',
        'issuer',
        'sender',
        'recipient',
        'messageId',
        'parts',
      ],
    },
  )
  .map(({ eventAndReason: er, ...rest }) => ({ ...rest, ...er }) as EvidenceData);

/** Every attribute value named Id, ID or id in a parse of `xml`. */
const parsedIds = (xml: string): string[] => [...indexIds(parseXmlStrict(xml, 'SEAL_MALFORMED')).byId.keys()];

describe('evidence written as text (writeEvidence) against the DOM builder', () => {
  const fixtures: { name: string; data: EvidenceData }[] = [
    ...Object.entries(evidenceSamples()).map(([name, data]) => ({ name, data: data as EvidenceData })),
    ...oneOfEachEvent().map(({ name, data }) => ({ name: `event ${name}`, data })),
    { name: 'markup, CR, TAB, line ends and entities in every free-text field', data: nastyVariant() },
  ];

  const check = (data: EvidenceData): void => {
    const written = writeEvidence(data);
    expect(written.xml).toBe(buildEvidenceDocument(data).xml);
    const doc = parseXmlStrict(written.xml, 'EVIDENCE_INVALID_DATA');
    expect(written.canonical).toBe(canonicalize(doc.documentElement));
    expect(written.xml.slice(written.signatureAt)).toBe('</ev:Evidence>');
    expect([...written.ids].sort()).toEqual(parsedIds(written.xml).sort());
  };

  it.each(fixtures)('$name: same text, canonical form and Ids as a parse gives', ({ data }) => check(data));

  it('generated evidence: same text, canonical form and Ids as a parse gives', () => {
    fc.assert(
      fc.property(evidenceData, (data) => check(data)),
      { numRuns: 300 },
    );
  });

  it('U+0085 and U+2028 are kept as they are (XML 1.0 characters, not line ends): read back and verified as written', async () => {
    const data: EvidenceData = {
      ...sample,
      messageId: 'a\u2028b\u0085c\r\u0085d',
      sender: { ...sample.sender, id: { scheme: 's\u2028', value: 'v\u0085w' } },
      parts: [{ ...sample.parts[0]!, partId: 'p\u2028\r\u0085q', plaintextSha256: 'a'.repeat(64) }],
    };
    const written = writeEvidence(data);
    expect(written.xml).toContain('a\u2028b\u0085c\n\u0085d');
    expect(written.xml).toContain('IdentifierSchemeName="s\u2028"');
    const read = parseEvidenceXml(written.xml);
    expect(read.messageId).toBe('a\u2028b\u0085c\n\u0085d');
    expect(read.sender.id).toEqual({ scheme: 's\u2028', value: 'v\u0085w' });
    expect(read.parts[0]).toMatchObject({ partId: 'p\u2028\n\u0085q', plaintextSha256: 'a'.repeat(64) });
    const opts = { identity: loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey), clock };
    const trust = loadTrustStore([pki.caCert, pki.caCrl]);
    const sealed = (await issueEvidence(data, xadesSealer({ ...opts, idGenerator: sequentialIdGenerator() })))
      .xml;
    // The DOM builder and sealXml give the same bytes, and an XML 1.0 tool agrees with the signature.
    const { xml, doc } = buildEvidenceDocument(data);
    expect(sealed).toBe(await sealXml(xml, { ...opts, idGenerator: sequentialIdGenerator() }, doc));
    const xs = xmlsecVerify(sealed, pki.caCert);
    expect(xs.ok, xs.output).toBe(true);
    const report = await verifyEvidence(sealed, { trust, at: fixed });
    expect(report.findings.filter((f) => f.severity === 'error' && !f.code.includes('REVOCATION'))).toEqual(
      [],
    );
    expect(report.evidence?.messageId).toBe('a\u2028b\u0085c\n\u0085d');
  });
});

describe('evidence sealed without a DOM (sealWrittenXml) against sealXml in the DOM builder', () => {
  let rsa: SigningIdentity;
  let ec: SigningIdentity;
  let caCert: X509Certificate;
  let caCrl: Buffer;

  beforeAll(() => {
    rsa = loadSigningIdentity(pki.ap('c2').sealCert, pki.ap('c2').sealKey);
    // Names the samples' issuer id, as the issuer binding (evidence/issuer-check.ts) wants of a seal.
    const files = opensslEcSeal(pki, 'Oracle EC e-seal', sample.issuer.id);
    ec = loadSigningIdentity(files.certFile, files.keyFile);
    caCert = new X509Certificate(readFileSync(pki.caCert));
    caCrl = readFileSync(pki.caCrl);
  });

  type Level = 'B-B' | 'B-T' | 'B-LT' | 'B-LT (no values)';
  const levels: readonly Level[] = ['B-B', 'B-T', 'B-LT', 'B-LT (no values)'];
  const keys = ['RSA', 'EC'] as const;

  function options(
    key: (typeof keys)[number],
    lvl: Level,
    ids: () => IdGenerator,
  ): () => XadesSealOptions & { signer: ReturnType<typeof recordingSigner> } {
    const signer = recordingSigner(key === 'RSA' ? rsa : ec);
    const tsa = lvl === 'B-B' ? undefined : recordingTsa();
    const longTerm =
      lvl === 'B-LT'
        ? { crls: [caCrl], certificates: [caCert] }
        : lvl === 'B-LT (no values)'
          ? { crls: [], certificates: [] }
          : undefined;
    return () => ({
      identity: signer,
      clock,
      idGenerator: ids(),
      signer,
      ...(tsa ? { tsa } : {}),
      ...(longTerm ? { longTerm } : {}),
    });
  }

  /** The two paths on one evidence: the same bytes. */
  async function compare(data: EvidenceData, opts: () => XadesSealOptions): Promise<string> {
    const written = writeEvidence(data);
    const ours = await sealWrittenXml(written, opts());
    // Today's path: sealXml in the DOM builder's DOM.
    const { xml, doc } = buildEvidenceDocument(data);
    expect(written.xml).toBe(xml);
    expect(ours).toBe(await sealXml(xml, opts(), doc));
    return ours;
  }

  const hostileSigId = fc.oneof(
    fc.constant(undefined),
    hostile(10).map((h) => `s${h}`),
  );

  for (const key of keys) {
    for (const lvl of levels) {
      it(`${key} ${lvl}: generated evidence, the same sealed bytes`, async () => {
        await fc.assert(
          fc.asyncProperty(evidenceData, hostileSigId, async (data, sigId) => {
            const ids = () => (sigId === undefined ? sequentialIdGenerator() : { next: () => sigId });
            await compare(data, options(key, lvl, ids));
          }),
          { numRuns: 25 },
        );
      });
    }
  }

  it('the fixtures and the hostile variant, every key and level: the same sealed bytes', async () => {
    const all = [
      ...Object.values(evidenceSamples()),
      ...oneOfEachEvent().map((e) => e.data),
      nastyVariant(),
    ] as EvidenceData[];
    for (const data of all)
      for (const key of keys)
        for (const lvl of levels)
          await compare(
            data,
            options(key, lvl, () => sequentialIdGenerator()),
          );
  });

  it('xmlsec1 and verifyEvidence accept what sealWrittenXml writes (hostile text, U+2028, every key and level)', async () => {
    const trust = loadTrustStore([pki.caCert, pki.caCrl]);
    const data = nastyVariant();
    for (const key of keys) {
      for (const lvl of levels) {
        const opts = options(key, lvl, () => sequentialIdGenerator())();
        const { xml } = await issueEvidence(data, xadesSealer(opts));
        expect(xml).toBe(
          await sealWrittenXml(writeEvidence(data), { ...opts, idGenerator: sequentialIdGenerator() }),
        );
        const xs = xmlsecVerify(xml, pki.caCert);
        expect(xs.ok, `${key} ${lvl}: ${xs.output}`).toBe(true);
        const report = await verifyEvidence(xml, { trust, at: fixed });
        expect(
          report.findings.filter((f) => f.severity === 'error' && !f.code.includes('REVOCATION')),
          `${key} ${lvl}`,
        ).toEqual([]);
        expect(report.seal?.level).toBe(lvl === 'B-B' ? 'B-B' : lvl === 'B-T' ? 'B-T' : 'B-LT');
        // XML 1.0 reads CR and CR LF as LF; U+0085 and U+2028 come back as they are.
        const readBack = (v: string) => v.replace(/\r\n?/g, '\n');
        expect(report.evidence?.messageId).toBe(readBack(data.messageId));
        expect(report.evidence?.sender.name).toBe(readBack(data.sender.name!));
        const partId = readBack(data.parts[0]!.partId);
        expect(report.evidence?.parts[0]?.partId).toBe(partId);
        expect(report.evidence?.parts[0]?.plaintextSha256).toBe('b'.repeat(64));
      }
    }
  });

  it('a character XML 1.0 cannot hold is refused before anything is signed or timestamped', async () => {
    const bad = ['\u0000', '\u0008', '\u001f', '\ud800', 'x\udc00', '\ufffe', '\uffff'];
    const places: ((c: string) => EvidenceData)[] = [
      (c) => ({ ...sample, messageId: `m${c}` }),
      (c) => ({ ...sample, sender: { ...sample.sender, id: { scheme: c, value: 'v' } } }),
      (c) => ({ ...sample, parts: [{ ...sample.parts[0]!, partId: c, plaintextSha256: 'a'.repeat(64) }] }),
      (c) => ({ ...sample, previousEvidenceId: `p${c}` }),
    ];
    for (const c of bad) {
      for (const place of places) {
        const opts = options('EC', 'B-LT', () => sequentialIdGenerator())();
        const tsa = opts.tsa as ReturnType<typeof recordingTsa>;
        await expect(issueEvidence(place(c), xadesSealer(opts))).rejects.toMatchObject({
          code: 'EVIDENCE_INVALID_DATA',
        });
        expect(opts.signer.calls).toBe(0);
        expect(tsa.calls).toBe(0);
      }
    }
  });

  it('refuses as sealXml does: a seal Id the document has, B-LT without a TSA, a key of another type, stale CRLs', async () => {
    const both = async (data: EvidenceData, opts: () => XadesSealOptions) => {
      const a = await sealWrittenXml(writeEvidence(data), opts()).catch((e: { code?: string }) => e.code);
      const b = await sealXml(writeEvidence(data).xml, opts()).catch((e: { code?: string }) => e.code);
      return [a, b];
    };
    const sig = { next: () => 'ev-1' };
    expect(await both({ ...sample, id: 'ev-1' }, () => ({ identity: rsa, clock, idGenerator: sig }))).toEqual(
      ['SEAL_DUPLICATE_ID', 'SEAL_DUPLICATE_ID'],
    );
    const sigts = { next: () => 'x' };
    expect(
      await both({ ...sample, id: 'x-sigts' }, () => ({ identity: rsa, clock, idGenerator: sigts })),
    ).toEqual(['SEAL_DUPLICATE_ID', 'SEAL_DUPLICATE_ID']);
    const ids = () => sequentialIdGenerator();
    expect(
      await both(sample, () => ({
        identity: rsa,
        clock,
        idGenerator: ids(),
        longTerm: { crls: [], certificates: [] },
      })),
    ).toEqual(['SEAL_AUGMENT_NOT_B_T', 'SEAL_AUGMENT_NOT_B_T']);
    expect(
      await both(sample, () => ({
        identity: rsa,
        clock,
        idGenerator: ids(),
        signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
      })),
    ).toEqual(['SEAL_KEY_MISMATCH', 'SEAL_KEY_MISMATCH']);
    // A token whose genTime lies after the CRL's next update (a TSA clock decades ahead).
    const tsa = recordingTsa();
    const late = new Date(fixed.getTime() + 50 * 365 * 86_400_000);
    const lateTsa: TsaClient = {
      timestamp: async (imprint) => ({ ...(await tsa.timestamp(imprint)), genTime: late }),
    };
    expect(
      await both(sample, () => ({
        identity: rsa,
        clock,
        idGenerator: ids(),
        tsa: lateTsa,
        longTerm: { crls: [caCrl], certificates: [] },
      })),
    ).toEqual(['SEAL_REVOCATION_STALE', 'SEAL_REVOCATION_STALE']);
  });
});

/**
 * Strings that the serializer must escape, CR/TAB/LF that a parser normalizes, XML 1.1 line ends, astral. Not at
 * either end: the reader trims element text (xml/dom.ts textOf), not attribute values, so a part id with white
 * space at an end would no longer match its PlaintextDigest's PartId (a limit of the reader, not of the writer).
 */
const NASTY =
  'a<b>&c"d\'e]]>f\r\ng\rh\ti\nj &amp; &#0; <!-- x --> <?pi?> <![CDATA[y]]> é 𝄞 \u2028 \u0085 \u2029 z';

function nastyVariant(): EvidenceData {
  const [first, second] = sample.parts;
  const who = (p: EvidenceData['sender']): EvidenceData['sender'] => ({
    ...p,
    name: `${NASTY} ${p.name ?? ''}`,
    id: { scheme: p.id.scheme, value: `${p.id.value}${NASTY}` },
    identification: {
      method: `urn:x:${NASTY}`,
      assuranceLevel: 'http://eidas.europa.eu/LoA/low',
      authenticatedAt: new Date('2026-01-01T10:00:00.123Z'),
    },
  });
  return {
    ...sample,
    id: `ev:${NASTY}`,
    messageId: `<${NASTY}@example>`,
    issuer: { ...sample.issuer, name: `${NASTY}`, id: `${sample.issuer.id}` },
    sender: who(sample.sender),
    recipient: who(sample.recipient),
    previousEvidenceId: `prev ${NASTY}`,
    issuerPolicyIds: [`urn:policy:${NASTY}`],
    parts: [
      {
        ...first!,
        partId: `p1 ${NASTY}`,
        contentType: `text/plain; x="${NASTY}"`,
        plaintextSha256: 'b'.repeat(64),
      },
      {
        ...second!,
        partId: `p2 ${NASTY}`,
        sealedOnBehalf: {
          format: 'XAdES',
          submittedSha256: 'c'.repeat(64),
          certificateSha256: 'd'.repeat(64),
        },
      },
    ],
  } as EvidenceData;
}
