import { describe, expect, it } from 'vitest';
import { validate } from '../helpers/json-schema-subset.js';
import { contractViolations, loadContract, webhookViolations } from '../helpers/openapi-contract.js';

/** The checker that the REST tests run every answer through: drift between the code and the contract fails. */
describe('answers checked against schemas/openapi.yaml', () => {
  const contract = loadContract();
  const base = 'http://127.0.0.1:8080';
  const message = {
    id: 'm1',
    ebmsMessageId: 'm1@ap',
    role: 'sender-ap',
    state: 'relayed',
    sender: '0188:1',
    recipient: '0188:2',
    parts: [{ partId: 'part-1', contentType: 'application/xml', sha256: 'ab', size: 3 }],
    submittedAt: '2026-12-07T08:00:00.000Z',
    updatedAt: '2026-12-07T08:00:01.000Z',
    attempts: 1,
  };
  const get = (path: string, json: unknown, status = 200, contentType = 'application/json; charset=utf-8') =>
    contractViolations(contract, { method: 'GET', url: `${base}${path}`, status, contentType, json });

  it('passes an answer the contract describes', () => {
    expect(get('/api/v1/messages/m1', message)).toEqual([]);
    expect(get('/api/v1/messages?state=failed', [message])).toEqual([]);
    expect(
      get(
        '/api/v1/messages/m1',
        {
          type: 'urn:qerds-ap:problem:NOT_FOUND',
          title: 'NOT_FOUND',
          status: 404,
          detail: 'no message m1',
          code: 'NOT_FOUND',
        },
        404,
        'application/problem+json',
      ),
    ).toEqual([]);
  });

  it('fails a field the code returns and the contract does not describe, however deep', () => {
    expect(get('/api/v1/messages/m1', { ...message, priority: 'high' })).toEqual([
      'GET /api/v1/messages/m1 → 200: body /priority: not described by the contract',
    ]);
    expect(
      get('/api/v1/messages/m1', { ...message, parts: [{ ...message.parts[0], colour: 'red' }] }),
    ).toEqual(['GET /api/v1/messages/m1 → 200: body /parts/0/colour: not described by the contract']);
  });

  it('fails a wrong type, a value outside the enum, a malformed date-time, a missing required field', () => {
    expect(get('/api/v1/messages/m1', { ...message, attempts: '1' })).toEqual([
      'GET /api/v1/messages/m1 → 200: body /attempts: expected integer, got string',
    ]);
    expect(get('/api/v1/messages/m1', { ...message, state: 'lost' })[0]).toMatch(
      /body \/state: "lost" is not one of/,
    );
    expect(get('/api/v1/messages/m1', { ...message, submittedAt: '7 Dec 2026' })[0]).toMatch(
      /body \/submittedAt: .* is not an RFC 3339 date-time/,
    );
    expect(
      get('/api/v1/messages/m1', { title: 'x', status: 404, detail: 'x' }, 404, 'application/problem+json'),
    ).toEqual([
      'GET /api/v1/messages/m1 → 404: body /: required property "type" is missing',
      'GET /api/v1/messages/m1 → 404: body /: required property "code" is missing',
    ]);
  });

  it('fails a path, a method, a status or a content type the contract does not list', () => {
    expect(get('/api/v1/nowhere', {})).toEqual(['GET /api/v1/nowhere → 200: path not in the contract']);
    expect(
      contractViolations(contract, {
        method: 'DELETE',
        url: `${base}/api/v1/messages/m1`,
        status: 204,
        contentType: null,
      })[0],
    ).toMatch(/method not in the contract/);
    expect(get('/api/v1/messages/m1', message, 418)[0]).toMatch(
      /status not in the contract for GET \/messages\/\{id\}/,
    );
    expect(get('/api/v1/messages/m1', message, 200, 'text/html')[0]).toMatch(
      /content type text\/html not in the contract/,
    );
  });

  it('leaves alone what is outside the contract (probes, AS4) and reads allOf members together', () => {
    expect(get('/healthz', { status: 'ok' })).toEqual([]);
    const withEvidence = {
      ...message,
      evidence: [{ id: 'e1', event: 'SubmissionAcceptance', href: '/api/v1/evidence/e1' }],
    };
    expect(
      contractViolations(contract, {
        method: 'POST',
        url: `${base}/api/v1/messages`,
        status: 201,
        contentType: 'application/json',
        json: withEvidence,
      }),
    ).toEqual([]);
    expect(
      contractViolations(contract, {
        method: 'POST',
        url: `${base}/api/v1/messages`,
        status: 201,
        contentType: 'application/json',
        json: { ...withEvidence, extra: 1 },
      }),
    ).toEqual(['POST /api/v1/messages → 201: body /extra: not described by the contract']);
  });

  it('checks a webhook body against its schema in the contract', () => {
    const event = {
      type: 'evidence',
      messageId: 'm1',
      ebmsMessageId: 'm1@ap',
      sender: '0188:1',
      recipient: '0188:2',
      evidenceId: 'e1',
      event: 'RelayAcceptance',
      eventTime: '2026-12-07T08:00:00Z',
      messageUrl: '/m',
      evidenceUrl: '/e',
      evidenceXml: '<x/>',
    };
    expect(webhookViolations(contract, 'senderEvidence', event)).toEqual([]);
    expect(
      webhookViolations(contract, 'senderEvidence', { ...event, type: 'notice', signature: 'x' }),
    ).toEqual([
      'webhook senderEvidence: body /type: expected "evidence"',
      'webhook senderEvidence: body /signature: not described by the contract',
    ]);
  });

  it('refuses a schema keyword it does not check instead of skipping it', () => {
    expect(validate({ type: 'string', contentEncoding: 'base64' }, 'x', { root: {} })).toEqual([
      '/: schema keyword "contentEncoding" is not supported by this validator',
    ]);
  });
});
