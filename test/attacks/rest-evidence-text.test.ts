import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceData } from '../../src/core/index.js';
import { issueEvidence } from '../../src/evidence/index.js';
import { evidenceSamples } from '../fixtures/evidence/load-samples.js';
import {
  multipartBody,
  rawRequest,
  RECIPIENT,
  SENDER,
  startAttackAp,
  submitValid,
  type AttackAp,
  type RawResponse,
} from './rest-ap.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';

// Every answer of the REST API in this file is checked against schemas/openapi.yaml.
useOpenApiContract();

/**
 * Evidence that does not parse: a string a client sends that ends up in a sealed document must be
 * XML 1.0 text (U+0000, U+0001 and lone surrogates are not), refused at the door with 400 naming the field;
 * a subject with CR/LF is refused at submission; and the evidence itself is re-parsed before it is sealed.
 */
describe('issueEvidence re-parses before sealing', () => {
  const base = evidenceSamples().RelayAcceptance;
  const sealed: string[] = [];
  const sealer = { seal: async (xml: string) => (sealed.push(xml), xml) };

  it.each([
    [
      'U+0000 in the recipient id',
      (d: EvidenceData): EvidenceData => ({
        ...d,
        recipient: { ...d.recipient, id: { ...d.recipient.id, value: 'a\u0000b' } },
      }),
    ],
    [
      'U+0001 in the recipient id',
      (d: EvidenceData): EvidenceData => ({
        ...d,
        recipient: { ...d.recipient, id: { ...d.recipient.id, value: 'a\u0001b' } },
      }),
    ],
    [
      'a lone surrogate in the reason details',
      (d: EvidenceData): EvidenceData => ({
        ...d,
        event: 'SubmissionRejection',
        reason: { code: 'RA05', details: 'bad \ud800 half' },
      }),
    ],
  ])('%s: EVIDENCE_INVALID_DATA, nothing sealed', async (_name, change) => {
    const before = sealed.length;
    await expect(issueEvidence(change(base), sealer)).rejects.toMatchObject({
      code: 'EVIDENCE_INVALID_DATA',
      message: expect.stringMatching(/not allowed in XML 1\.0/),
    });
    expect(sealed.length).toBe(before);
  });

  it('well-formed data is sealed', async () => {
    await issueEvidence(base, sealer);
    expect(sealed.at(-1)).toContain('RelayAcceptance');
  });
});

let target: AttackAp;
beforeAll(async () => {
  target = await startAttackAp('evidence-text');
}, 60_000);
afterAll(async () => {
  await target?.stop();
});

async function expectBadRequest(
  response: RawResponse,
  field: RegExp,
  before: { messages: number; blobs: string[] },
): Promise<void> {
  expect(response.status).toBe(400);
  expect(response.contentType).toMatch(/^application\/problem\+json/);
  const problem = response.json<{ type: string; code: string; detail: string }>();
  expect(problem).toMatchObject({ type: 'urn:qerds-ap:problem:BAD_REQUEST', code: 'BAD_REQUEST' });
  expect(problem.detail).toMatch(field);
  expect(await target.messageCount()).toBe(before.messages);
  expect(await target.blobFiles()).toEqual(before.blobs);
  expect((await submitValid(target.url)).status).toBe(201);
}

describe('POST /api/v1/messages refuses text that sealed XML or a header cannot carry', () => {
  const submit = (metadata: Record<string, unknown>, file: { filename?: string } = {}) =>
    rawRequest(`${target.url}/api/v1/messages`, {
      headers: { 'x-api-key': SENDER.key, 'content-type': 'multipart/form-data; boundary=xx' },
      body: multipartBody('xx', [
        { name: 'metadata', body: JSON.stringify(metadata) },
        {
          name: 'payload',
          filename: file.filename ?? 'a.xml',
          contentType: 'application/xml',
          body: '<Invoice>unique payload</Invoice>',
        },
      ]),
    });
  const snapshot = async () => ({ messages: await target.messageCount(), blobs: await target.blobFiles() });

  it.each([
    [
      'U+0000 in the recipient',
      { recipient: '0188:98765\u000043210987' },
      /^metadata: recipient character U\+0000/,
    ],
    [
      'U+0001 in the recipient',
      { recipient: '0188:98765\u000143210987' },
      /^metadata: recipient character U\+0001/,
    ],
    [
      'a lone surrogate in the recipient',
      { recipient: '0188:98765\ud83443210987' },
      /^metadata: recipient character U\+D834/,
    ],
    [
      'a lone surrogate in the subject',
      { recipient: RECIPIENT.id, subject: 'invoice \udc00' },
      /^metadata: subject character U\+DC00/,
    ],
    [
      'CR/LF in the subject',
      { recipient: RECIPIENT.id, subject: 'invoice\r\nBcc: someone@example.org' },
      /^metadata: subject control character U\+000D/,
    ],
  ])('%s: 400 naming the field, nothing stored', async (_name, metadata, field) => {
    const before = await snapshot();
    await expectBadRequest(await submit(metadata), field, before);
  });

  it('U+0001 in a file name, raw in the part header: 400 (busboy refuses the header)', async () => {
    const before = await snapshot();
    await expectBadRequest(
      await submit({ recipient: RECIPIENT.id }, { filename: 'in\u0001voice.xml' }),
      /^malformed multipart body/,
      before,
    );
  });

  it('U+0001 in a file name, percent-encoded (RFC 5987 filename*): 400 naming the part', async () => {
    const before = await snapshot();
    const body = Buffer.concat([
      multipartBody('xx', [{ name: 'metadata', body: JSON.stringify({ recipient: RECIPIENT.id }) }], {
        end: false,
      }),
      Buffer.from(
        `--xx\r\nContent-Disposition: form-data; name="payload"; filename*=UTF-8''in%01voice.xml\r\nContent-Type: application/xml\r\n\r\n<Invoice>encoded name</Invoice>\r\n--xx--\r\n`,
      ),
    ]);
    const response = await rawRequest(`${target.url}/api/v1/messages`, {
      headers: { 'x-api-key': SENDER.key, 'content-type': 'multipart/form-data; boundary=xx' },
      body,
    });
    await expectBadRequest(
      response,
      /^part-1 filename: character U\+0001 at index 2 is not allowed in XML 1\.0/,
      before,
    );
  });
});

describe('POST /api/v1/messages/{id}/reject refuses a reason sealed XML cannot carry', () => {
  it('U+0000 in the reason: 400 naming it', async () => {
    const response = await rawRequest(`${target.url}/api/v1/messages/msg-any/reject`, {
      headers: { 'x-api-key': SENDER.key, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'no\u0000thanks' }),
    });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({
      type: 'urn:qerds-ap:problem:BAD_REQUEST',
      code: 'BAD_REQUEST',
      detail: expect.stringMatching(/^body: reason character U\+0000/),
    });
    expect((await submitValid(target.url)).status).toBe(201);
  });
});
