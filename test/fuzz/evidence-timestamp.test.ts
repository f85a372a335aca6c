import { createHash } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { TimeStampResp } from '@peculiar/asn1-tsp';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildEvidenceXml } from '../../src/evidence/build-evidence.js';
import { parseEvidenceXml } from '../../src/evidence/parse-evidence.js';
import { loadSigningIdentity } from '../../src/pki/index.js';
import {
  acceptTimestampResponse,
  createTimestampAuthority,
  encodeTimestampRequest,
  verifyTimestampToken,
} from '../../src/timestamp/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import { sharedTestPki } from '../helpers/pki.js';
import { FUZZ_RUNS, mutated, mutatedXml, returnsOrRefuses, RUN_TIMEOUT_MS } from './fuzz-support.js';

/** The evidence parser and the RFC 3161 request/response/token parsers never crash. */
const pki = sharedTestPki();
const tsa = createTimestampAuthority({ identity: loadSigningIdentity(pki.tsaCert, pki.tsaKey) });
const imprint = { algorithm: 'sha256' as const, digest: createHash('sha256').update('fuzz').digest() };

describe('fuzz: evidence and timestamp parsers', () => {
  it('parseEvidenceXml returns or throws QerdsError, for mutated evidence', async () => {
    const seeds = Object.values(evidenceSamples()).map((data) => buildEvidenceXml(data));
    await fc.assert(
      fc.asyncProperty(fc.oneof(...seeds.map((s) => mutatedXml(s))), async (xml) => {
        await returnsOrRefuses(() => parseEvidenceXml(xml));
      }),
      { numRuns: FUZZ_RUNS, timeout: RUN_TIMEOUT_MS },
    );
  });

  it('the TSA answers any request with a TimeStampResp (granted only for a well-formed one)', async () => {
    const { der } = encodeTimestampRequest(imprint);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mutated(der),
          fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
        ),
        async (body) => {
          const reply = await tsa.respond(body);
          const resp = AsnConvert.parse(reply, TimeStampResp);
          expect([0, 2]).toContain(resp.status.status);
        },
      ),
      { numRuns: FUZZ_RUNS, timeout: RUN_TIMEOUT_MS },
    );
  });

  it('response acceptance and token verification return or throw QerdsError, for mutated responses', async () => {
    const { der, nonce } = encodeTimestampRequest(imprint, { certReq: true });
    const reply = await tsa.respond(der);
    await fc.assert(
      fc.asyncProperty(mutated(reply), async (body) => {
        await returnsOrRefuses(() => acceptTimestampResponse(body, { imprint, nonce }));
        await returnsOrRefuses(() => verifyTimestampToken(body));
      }),
      { numRuns: FUZZ_RUNS, timeout: RUN_TIMEOUT_MS },
    );
  });
});
