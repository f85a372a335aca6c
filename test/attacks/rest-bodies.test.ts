import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, SENDER, startAttackAp, submitValid, type AttackAp } from './rest-ap.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';

// Every answer of the REST API in this file is checked against schemas/openapi.yaml.
useOpenApiContract();

/**
 * Every other route that reads a request body (express.json / urlencoded streams): the recipient's
 * rejection, the people's pickup and the OAuth2 token endpoint. Malformed, oversize, badly compressed or
 * interrupted bodies get 400/413 problem+json (or, for a client that left, nothing) and the AP serves on.
 */
let target: AttackAp;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  target = await startAttackAp('bodies');
}, 60_000);
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await target?.stop();
});

const routes = [
  {
    name: 'POST /api/v1/messages/{id}/reject',
    path: '/api/v1/messages/msg-1/reject',
    type: 'application/json',
    limit: 8 * 1024,
    headers: { 'x-api-key': SENDER.key },
  },
  {
    name: 'POST /pickup/{token}',
    path: '/pickup/not-a-token.x',
    type: 'application/json',
    limit: 4 * 1024,
    headers: {},
  },
  {
    name: 'POST /oauth/token',
    path: '/oauth/token',
    type: 'application/x-www-form-urlencoded',
    limit: 8 * 1024,
    headers: {},
  },
] as const;

async function stillServing(messagesBefore: number): Promise<void> {
  expect(uncaught).toEqual([]);
  expect(await target.messageCount()).toBe(messagesBefore);
  expect((await submitValid(target.url)).status).toBe(201);
}

describe.each(routes.filter((r) => r.type === 'application/json'))('$name', (route) => {
  const send = (body: string) =>
    rawRequest(`${target.url}${route.path}`, {
      headers: { ...route.headers, 'content-type': route.type },
      body,
    });

  it('malformed JSON: 400 problem', async () => {
    const before = await target.messageCount();
    const response = await send('{"reason": "unterminated');
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({
      type: 'urn:qerds-ap:problem:BAD_REQUEST',
      code: 'BAD_REQUEST',
      status: 400,
    });
    await stillServing(before);
  });
});

describe.each(routes)('$name', (route) => {
  const send = (body: Buffer | string, headers: Record<string, string | number> = {}) =>
    rawRequest(`${target.url}${route.path}`, {
      headers: { ...route.headers, 'content-type': route.type, ...headers },
      body,
    });

  it('over its size limit: 413 problem, not a cut body', async () => {
    const before = await target.messageCount();
    const big =
      route.type === 'application/json'
        ? JSON.stringify({ reason: 'x'.repeat(route.limit) })
        : `grant_type=client_credentials&x=${'x'.repeat(route.limit)}`;
    const response = await send(big);
    expect(response.status).toBe(413);
    expect(response.json()).toMatchObject({
      type: 'urn:qerds-ap:problem:PAYLOAD_TOO_LARGE',
      code: 'PAYLOAD_TOO_LARGE',
      status: 413,
    });
    await stillServing(before);
  });

  it('a gzip body that is not gzip: 400 problem', async () => {
    const before = await target.messageCount();
    const response = await send(Buffer.from('this is not gzip at all'), { 'content-encoding': 'gzip' });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({
      type: 'urn:qerds-ap:problem:BAD_REQUEST',
      code: 'BAD_REQUEST',
      status: 400,
    });
    await stillServing(before);
  });

  it('a gzip body cut short: 400 problem', async () => {
    const before = await target.messageCount();
    const whole = gzipSync(
      Buffer.from(
        route.type === 'application/json'
          ? JSON.stringify({ reason: 'r'.repeat(500) })
          : 'grant_type=client_credentials',
      ),
    );
    const response = await send(whole.subarray(0, whole.length - 12), { 'content-encoding': 'gzip' });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({
      type: 'urn:qerds-ap:problem:BAD_REQUEST',
      code: 'BAD_REQUEST',
      status: 400,
    });
    await stillServing(before);
  });

  it('a client that leaves mid-body: nothing answered, nothing stored, the AP serves on', async () => {
    const before = await target.messageCount();
    await new Promise<void>((resolve, reject) => {
      const req = request(`${target.url}${route.path}`, {
        method: 'POST',
        agent: false,
        headers: { ...route.headers, 'content-type': route.type, 'content-length': 2000 },
      });
      req.on('error', () => resolve());
      req.on('response', (res) => reject(new Error(`answered ${res.statusCode} to a body it did not get`)));
      req.write('{"reason": "half', () => {
        req.destroy();
        resolve();
      });
    });
    await stillServing(before);
  });
});
