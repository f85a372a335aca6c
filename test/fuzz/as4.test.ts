import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { buildUserMessageEnvelope } from '../../src/as4/message/envelope-build.js';
import { parseEnvelope } from '../../src/as4/message/envelope-parse.js';
import { encodeMultipart } from '../../src/as4/message/multipart.js';
import { decodeMultipart, decodeMultipartStreaming } from '../../src/as4/message/multipart-stream.js';
import { signEnvelope } from '../../src/as4/security/ws-security-sign.js';
import { verifyEnvelope } from '../../src/as4/security/ws-security-verify.js';
import { assertNoProcessingInstructions, parseXml } from '../../src/as4/message/xml-util.js';
import { serializeXml } from '../../src/xml/index.js';
import type { Attachment } from '../../src/as4/model/types.js';
import { anchorTrustStore, sampleMessage, sealIdentity } from '../interop/as4-helpers.js';
import { sharedTestPki } from '../helpers/pki.js';
import { FUZZ_RUNS, mutated, mutatedXml, returnsOrRefuses, RUN_TIMEOUT_MS } from './fuzz-support.js';

/** The AS4 envelope parser, WS-Security verification and the MIME multipart decoders never crash. */
const pki = sharedTestPki();
const trust = anchorTrustStore(pki.caCert);
const attachments: Attachment[] = [
  { contentId: 'p1@qerds', contentType: 'application/octet-stream', body: Buffer.from('payload one') },
];
const doc = buildUserMessageEnvelope(sampleMessage('fuzz@qerds', attachments));
signEnvelope(doc, attachments, sealIdentity(pki, 'c2'));
const envelope = serializeXml(doc);
const mime = encodeMultipart(envelope, attachments, { boundary: 'fuzzBoundary' });
const spool = mkdtempSync(join(tmpdir(), 'qerds-fuzz-as4-'));
afterAll(() => rmSync(spool, { recursive: true, force: true }));

describe('fuzz: AS4 parsers', () => {
  it('envelope parse and signature verification return or throw QerdsError, for mutated envelopes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutatedXml(envelope), fc.string({ maxLength: 200 })), async (xml) => {
        await returnsOrRefuses(() => {
          const parsed = parseXml(xml);
          // Verified before the processing-instruction check the handler makes first: verifyEnvelope itself must
          // not throw on one inside a signed element (the canonicalizer did; found by this fuzzer).
          verifyEnvelope(parsed, attachments, { trust });
          assertNoProcessingInstructions(parsed);
          return parseEnvelope(parsed);
        });
      }),
      { numRuns: FUZZ_RUNS, timeout: RUN_TIMEOUT_MS },
    );
  });

  it('multipart decoding (whole and streamed) returns or throws QerdsError, for mutated messages', async () => {
    const chunked = (body: Buffer, size: number) =>
      (async function* () {
        for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
      })();
    await fc.assert(
      fc.asyncProperty(
        mutated(mime.body),
        fc.integer({ min: 1, max: 512 }),
        fc.boolean(),
        async (body, chunk, keepType) => {
          const contentType = keepType ? mime.contentType : 'multipart/related; boundary=fuzzBoundary';
          await returnsOrRefuses(() => decodeMultipart(contentType, body));
          await returnsOrRefuses(() =>
            decodeMultipartStreaming(contentType, chunked(body, chunk), {
              spoolDir: spool,
              spoolThresholdBytes: 64,
            }),
          );
        },
      ),
      { numRuns: FUZZ_RUNS, timeout: RUN_TIMEOUT_MS },
    );
  });
});

describe('verifyEnvelope on a processing instruction inside a signed element', () => {
  it('is an invalid signature, not an exception', () => {
    for (const [where, pattern] of [
      ['eb:Messaging', /(<[A-Za-z0-9]+:Messaging[^>]*>)/],
      ['ds:SignedInfo', /(<[A-Za-z0-9]+:SignedInfo[^>]*>)/],
    ] as const) {
      const withPi = envelope.replace(pattern, '$1<?qerds fuzz?>');
      expect(withPi, where).not.toBe(envelope);
      const result = verifyEnvelope(parseXml(withPi), attachments, { trust });
      expect(result.valid, where).toBe(false);
      expect(result.findings.filter((f) => f.severity === 'error').length, where).toBeGreaterThan(0);
    }
  });
});
