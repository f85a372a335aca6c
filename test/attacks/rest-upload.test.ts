import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { multipartBody, rawRequest, RECIPIENT, SENDER, startAttackAp, submitValid, type AttackAp, type RawResponse } from './rest-ap.js';

/**
 * Issue 13, REST submission: malformed or truncated request bodies are refused with 400 problem+json, leave
 * no message and no blob, and never end the process (an unhandled 'error' event of busboy's file stream did).
 */
let target: AttackAp;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  target = await startAttackAp('upload');
}, 60_000);
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await target?.stop();
});

const post = (headers: Record<string, string | number>, body: Buffer | string) =>
  rawRequest(`${target.url}/api/v1/messages`, { headers: { 'x-api-key': SENDER.key, ...headers }, body });

/** The refusal, nothing stored (no message row, no blob file beyond those before), and a valid submission served right after. */
async function expectRefusedThenServing(response: RawResponse, status: number, code: string, before: Snapshot): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.contentType).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({ type: `urn:qerds-ap:problem:${code}`, code, status });
  expect(await target.messageCount()).toBe(before.messages);
  expect(target.blobFiles()).toEqual(before.blobs);
  expect(uncaught).toEqual([]);
  const valid = await submitValid(target.url);
  expect(valid.status).toBe(201);
}

interface Snapshot {
  readonly messages: number;
  readonly blobs: string[];
}
const snapshot = async (): Promise<Snapshot> => ({ messages: await target.messageCount(), blobs: target.blobFiles() });

describe('POST /api/v1/messages: malformed multipart bodies', () => {
  it('a form truncated inside a file part (no closing boundary) is a 400, not a crash', async () => {
    const before = await snapshot();
    const body = '--xx\r\nContent-Disposition: form-data; name="p"; filename="a"\r\n\r\nabc';
    const response = await post({ 'content-type': 'multipart/form-data; boundary=xx' }, body);
    await expectRefusedThenServing(response, 400, 'BAD_REQUEST', before);
  });
});
