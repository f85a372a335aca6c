import { describe, expect, it } from 'vitest';
import { proofVerifiers } from '../../src/api/index.js';
import { EVIDENCE_BUNDLE_FORMAT, verifyAny } from '../../src/evidence/index.js';
import { detectFileKind } from '../../src/evidence/verify-token.js';
import { loadTrustStore } from '../../src/pki/index.js';
import { sharedTestPki } from '../helpers/pki.js';

/** What verifyAny makes of bytes that are not a valid proof: a kind and a negative verdict, or a refusal. */
describe('verifyAny: detection of the kind of proof', () => {
  const trust = loadTrustStore([sharedTestPki().caCert, sharedTestPki().caCrl]);
  const verify = (text: string) => verifyAny(Buffer.from(text), { trust, verifiers: proofVerifiers });

  it('refuses bytes that are no known kind (EVIDENCE_MALFORMED)', async () => {
    await expect(verify('hello')).rejects.toMatchObject({ code: 'EVIDENCE_MALFORMED' });
    await expect(verify('{"format":"something-else","evidence":[]}')).rejects.toMatchObject({
      code: 'EVIDENCE_MALFORMED',
    });
  });

  it('an unsigned SOAP envelope with an ebMS header is an AS4 capture, INVALID', async () => {
    const soap = `<S:Envelope xmlns:S="http://www.w3.org/2003/05/soap-envelope"><S:Header><eb:Messaging xmlns:eb="http://docs.oasis-open.org/ebxml-msg/ebms/v3.0/ns/core/200704/"/></S:Header><S:Body/></S:Envelope>`;
    const r = await verify(soap);
    expect(r).toMatchObject({ kind: 'as4-capture', valid: false });
  });

  it('an empty bundle, or one whose member has no XML, is an INVALID evidence chain', async () => {
    const empty = await verify(JSON.stringify({ format: EVIDENCE_BUNDLE_FORMAT, evidence: [] }));
    expect(empty).toMatchObject({ kind: 'evidence-chain', valid: false });
    expect(empty.json).toContain('CHAIN_EMPTY');
    const hollow = await verify(
      JSON.stringify({ format: EVIDENCE_BUNDLE_FORMAT, evidence: [{ id: 'ev-1', file: 'evidence/01.xml' }] }),
    );
    expect(hollow).toMatchObject({ kind: 'evidence-chain', valid: false });
    expect(hollow.json).toContain('CHAIN_MEMBER_MISSING');
  });

  it('tells each kind by its own marks: evidence, trusted list, other signed XML, plain XML, CMS', () => {
    expect(
      detectFileKind(Buffer.from('<?xml version="1.0"?><Evidence xmlns="http://uri.etsi.org/19522/v1#"/>')),
    ).toBe('evidence-xml');
    expect(
      detectFileKind(Buffer.from('<tsl:TrustServiceStatusList xmlns:tsl="http://uri.etsi.org/02231/v2#"/>')),
    ).toBe('trusted-list');
    expect(
      detectFileKind(
        Buffer.from('<Invoice><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"/></Invoice>'),
      ),
    ).toBe('xades');
    expect(detectFileKind(Buffer.from('<Invoice/>'))).toBe('xml');
    expect(detectFileKind(Buffer.from('not a proof'))).toBe('unknown');
  });

  it('XML that is no proof is refused with what it is, not as "not Evidence"', async () => {
    await expect(verify('<Invoice/>')).rejects.toMatchObject({
      code: 'EVIDENCE_MALFORMED',
      message: expect.stringMatching(/XML without a signature/),
    });
  });

  it('malformed evidence XML is evidence-xml, not valid', async () => {
    const r = await verify('<Evidence/>');
    expect(r).toMatchObject({ kind: 'evidence-xml', valid: false });
  });
});
