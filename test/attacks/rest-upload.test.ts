import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';

// Every answer of the REST API in this file is checked against schemas/openapi.yaml.
useOpenApiContract();

/**
 * REST submission: malformed or truncated request bodies are refused with 400 problem+json, leave
 * no message and no blob, and never end the process (an unhandled 'error' event of busboy's file stream did).
 */
const MAX_BYTES = 300_000;
let target: AttackAp;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  target = await startAttackAp('upload', { limits: { maxPayloadBytes: MAX_BYTES } });
}, 60_000);
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await target?.stop();
});

const post = (headers: Record<string, string | number>, body: Buffer | string) =>
  rawRequest(`${target.url}/api/v1/messages`, { headers: { 'x-api-key': SENDER.key, ...headers }, body });

/** The refusal, nothing stored (no message row, no blob file beyond those before), and a valid submission served right after. */
async function expectRefusedThenServing(
  response: RawResponse,
  status: number,
  code: string,
  before: Snapshot,
): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.contentType).toMatch(/^application\/problem\+json/);
  expect(response.json()).toMatchObject({ type: `urn:qerds-ap:problem:${code}`, code, status });
  expect(await target.messageCount()).toBe(before.messages);
  expect(await target.blobFiles()).toEqual(before.blobs);
  expect(uncaught).toEqual([]);
  const valid = await submitValid(target.url);
  expect(valid.status).toBe(201);
}

interface Snapshot {
  readonly messages: number;
  readonly blobs: string[];
}
const snapshot = async (): Promise<Snapshot> => ({
  messages: await target.messageCount(),
  blobs: await target.blobFiles(),
});

describe('POST /api/v1/messages: malformed multipart bodies', () => {
  it('a form truncated inside a file part (no closing boundary) is a 400, not a crash', async () => {
    const before = await snapshot();
    const body = '--xx\r\nContent-Disposition: form-data; name="p"; filename="a"\r\n\r\nabc';
    const response = await post({ 'content-type': 'multipart/form-data; boundary=xx' }, body);
    await expectRefusedThenServing(response, 400, 'BAD_REQUEST', before);
  });

  it('a part header that never ends is a 400', async () => {
    const before = await snapshot();
    const body = '--xx\r\nContent-Disposition: form-data; name="p"; filename="a"\r\nContent-Type: text/plain';
    await expectRefusedThenServing(
      await post({ 'content-type': 'multipart/form-data; boundary=xx' }, body),
      400,
      'BAD_REQUEST',
      before,
    );
  });

  it('a body that is not multipart at all is a 400', async () => {
    const before = await snapshot();
    await expectRefusedThenServing(
      await post({ 'content-type': 'application/json' }, '{"recipient":"x"}'),
      400,
      'BAD_REQUEST',
      before,
    );
  });

  it('a truncated form after a complete file leaves neither that file nor the partial one', async () => {
    const before = await snapshot();
    const whole = multipartBody(
      'xx',
      [
        { name: 'metadata', body: JSON.stringify({ recipient: RECIPIENT.id }) },
        {
          name: 'payload',
          filename: 'one.txt',
          contentType: 'text/plain',
          body: 'complete first part '.repeat(100),
        },
        { name: 'payload', filename: 'two.txt', contentType: 'text/plain', body: 'second part, cut short' },
      ],
      { end: false },
    );
    const body = whole.subarray(0, whole.length - 10);
    await expectRefusedThenServing(
      await post({ 'content-type': 'multipart/form-data; boundary=xx' }, body),
      400,
      'BAD_REQUEST',
      before,
    );
  });

  it('a second metadata field (after the first was read) is a 400, not a silent replacement', async () => {
    const before = await snapshot();
    const body = multipartBody('xx', [
      { name: 'metadata', body: JSON.stringify({ recipient: RECIPIENT.id }) },
      { name: 'payload', filename: 'a.txt', contentType: 'text/plain', body: 'a' },
      { name: 'metadata', body: JSON.stringify({ recipient: '0188:0000000000000' }) },
    ]);
    await expectRefusedThenServing(
      await post({ 'content-type': 'multipart/form-data; boundary=xx' }, body),
      400,
      'BAD_REQUEST',
      before,
    );
  });
});

describe('POST /api/v1/messages: refused submissions leave no blob (disk filling)', () => {
  it('metadata that is not JSON, sent after the payload: 400 and the payload blob is gone', async () => {
    const before = await snapshot();
    const body = multipartBody('xx', [
      {
        name: 'payload',
        filename: 'a.bin',
        contentType: 'application/octet-stream',
        body: Buffer.alloc(50_000, 7),
      },
      { name: 'metadata', body: '{not json' },
    ]);
    await expectRefusedThenServing(
      await post({ 'content-type': 'multipart/form-data; boundary=xx' }, body),
      400,
      'BAD_REQUEST',
      before,
    );
  });

  it('metadata without a recipient: 400 and the payload blob is gone', async () => {
    const before = await snapshot();
    const body = multipartBody('xx', [
      { name: 'metadata', body: JSON.stringify({ subject: 'no recipient' }) },
      {
        name: 'payload',
        filename: 'a.bin',
        contentType: 'application/octet-stream',
        body: Buffer.alloc(10_000, 9),
      },
    ]);
    await expectRefusedThenServing(
      await post({ 'content-type': 'multipart/form-data; boundary=xx' }, body),
      400,
      'BAD_REQUEST',
      before,
    );
  });

  it('a refused upload does not remove content that an accepted message stored before (same bytes)', async () => {
    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
    form.append('payload', new Blob(['shared content']), 'shared.txt');
    const accepted = await fetch(`${target.url}/api/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': SENDER.key },
      body: form,
    });
    expect(accepted.status).toBe(201);
    const before = await snapshot();
    const body = multipartBody('xx', [
      { name: 'metadata', body: '{}' },
      { name: 'payload', filename: 'shared.txt', body: 'shared content' },
    ]);
    await expectRefusedThenServing(
      await post({ 'content-type': 'multipart/form-data; boundary=xx' }, body),
      400,
      'BAD_REQUEST',
      before,
    );
    const sha256 = ((await accepted.json()) as { parts: { sha256: string }[] }).parts[0]!.sha256;
    expect(await accessPointInternals(target.ap).context.store.blobs.has(sha256)).toBe(true);
  });

  it('a client that goes away mid-body leaves no file and no message', async () => {
    const before = await snapshot();
    const head = multipartBody(
      'xx',
      [
        { name: 'metadata', body: JSON.stringify({ recipient: RECIPIENT.id }) },
        {
          name: 'payload',
          filename: 'big.bin',
          contentType: 'application/octet-stream',
          body: Buffer.alloc(200_000, 3),
        },
      ],
      { end: false },
    );
    await new Promise<void>((resolve, reject) => {
      const req = request(`${target.url}/api/v1/messages`, {
        method: 'POST',
        agent: false,
        headers: {
          'x-api-key': SENDER.key,
          'content-type': 'multipart/form-data; boundary=xx',
          'content-length': head.length + 1_000_000,
        },
      });
      req.on('error', () => resolve());
      req.on('response', () => reject(new Error('the AP answered a body it had not received')));
      // Half of the file, then the client is gone: wait until the AP has started writing the blob.
      req.write(head.subarray(0, 120_000), () => {
        void waitFor(
          async () => ((await target.blobFiles()).some((f) => f.includes('.tmp-')) ? true : undefined),
          { what: 'the blob write to start' },
        ).then(() => {
          req.destroy();
          resolve();
        }, reject);
      });
    });
    await waitFor(
      async () =>
        JSON.stringify(await target.blobFiles()) === JSON.stringify(before.blobs) ? true : undefined,
      { what: 'the partial blob to be removed' },
    );
    expect(await target.messageCount()).toBe(before.messages);
    expect(uncaught).toEqual([]);
    expect((await submitValid(target.url)).status).toBe(201);
  });
});

describe('POST /api/v1/messages: limits refuse, never cut (no silent truncation)', () => {
  const filesOf = (count: number) =>
    Array.from({ length: count }, (_, i) => ({
      name: 'payload',
      filename: `f${i}.txt`,
      contentType: 'text/plain',
      body: `file ${i}`,
    }));
  const meta = { name: 'metadata', body: JSON.stringify({ recipient: RECIPIENT.id }) };

  it('20 files are accepted, all 20 kept', async () => {
    const response = await post(
      { 'content-type': 'multipart/form-data; boundary=xx' },
      multipartBody('xx', [meta, ...filesOf(20)]),
    );
    expect(response.status).toBe(201);
    expect(response.json<{ parts: unknown[] }>().parts).toHaveLength(20);
  });

  it('21 files: 413 naming the limit, nothing stored', async () => {
    const before = await snapshot();
    const response = await post(
      { 'content-type': 'multipart/form-data; boundary=xx' },
      multipartBody('xx', [meta, ...filesOf(21)]),
    );
    await expectRefusedThenServing(response, 413, 'PAYLOAD_TOO_LARGE', before);
    expect(response.json()).toMatchObject({ limit: 'files', max: 20 });
  });

  it('21 fields: 413 naming the limit', async () => {
    const before = await snapshot();
    const extra = Array.from({ length: 20 }, (_, i) => ({ name: `x${i}`, body: 'x' }));
    const response = await post(
      { 'content-type': 'multipart/form-data; boundary=xx' },
      multipartBody('xx', [meta, ...extra, ...filesOf(1)]),
    );
    await expectRefusedThenServing(response, 413, 'PAYLOAD_TOO_LARGE', before);
    expect(response.json()).toMatchObject({ limit: 'fields', max: 20 });
  });

  it('a metadata field over 64 KiB: 413, not a truncated JSON', async () => {
    const before = await snapshot();
    const big = {
      name: 'metadata',
      body: JSON.stringify({ recipient: RECIPIENT.id, subject: 'x'.repeat(70_000) }),
    };
    const response = await post(
      { 'content-type': 'multipart/form-data; boundary=xx' },
      multipartBody('xx', [...filesOf(1), big]),
    );
    await expectRefusedThenServing(response, 413, 'PAYLOAD_TOO_LARGE', before);
    expect(response.json()).toMatchObject({ limit: 'fieldSize', max: 65_536 });
  });

  it('files over the byte limit together: 413 naming maxBytes, nothing stored', async () => {
    const before = await snapshot();
    const files = [0, 1].map((i) => ({
      name: 'payload',
      filename: `big${i}.bin`,
      body: Buffer.alloc(MAX_BYTES / 2 + 10, i),
    }));
    const response = await post(
      { 'content-type': 'multipart/form-data; boundary=xx' },
      multipartBody('xx', [meta, ...files]),
    );
    await expectRefusedThenServing(response, 413, 'PAYLOAD_TOO_LARGE', before);
    expect(response.json()).toMatchObject({ limit: 'maxBytes', max: MAX_BYTES });
  });
});
