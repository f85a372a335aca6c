import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseParticipantId } from '../../src/core/index.js';
import { waitFor } from '../helpers/wait.js';
import { RECIPIENT, SENDER, startAttackAp, submitValid, type AttackAp } from './rest-ap.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';

// Every answer of the REST API in this file is checked against schemas/openapi.yaml.
useOpenApiContract();

/**
 * The other direction of the REST body attacks: a blob piped to a response (GET /api/v1/inbox/{id}/parts/{partId}). A client
 * that goes away mid-download ends that response only: the read stream's error is handled, the AP serves on.
 */
let target: AttackAp;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);
const SIZE = 8 * 1024 * 1024;

beforeAll(async () => {
  process.on('uncaughtException', onUncaught);
  target = await startAttackAp('download');
}, 60_000);
afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  await target?.stop();
});

/** A message received for RECIPIENT (as C3 would store it), with one large part. */
async function received(id: string): Promise<void> {
  const store = accessPointInternals(target.ap).context.store;
  const { sha256, size } = await store.blobs.put(Buffer.alloc(SIZE, 0x5a));
  await store.transaction((tx) =>
    tx.insertMessage({
      id,
      ebmsMessageId: `${id}@peer`,
      role: 'recipient-ap',
      state: 'received',
      sender: parseParticipantId(SENDER.id),
      recipient: parseParticipantId(RECIPIENT.id),
      parts: [{ partId: 'part-1', contentType: 'application/octet-stream', sha256, size }],
      submittedAt: new Date(),
    }),
  );
}

describe('GET /api/v1/inbox/{id}/parts/{partId}', () => {
  it('a client that leaves after the first bytes: the AP serves on, and the part can be fetched whole', async () => {
    await received('msg-download-1');
    const url = `${target.url}/api/v1/inbox/msg-download-1/parts/part-1`;
    const firstBytes = await new Promise<number>((resolve, reject) => {
      const req = request(url, { agent: false, headers: { 'x-api-key': RECIPIENT.key } }, (res) => {
        res.once('data', (chunk: Buffer) => {
          req.destroy();
          resolve(chunk.length);
        });
        res.on('error', () => undefined);
      });
      req.on('error', (error) =>
        /ECONNRESET|socket hang up|aborted/.test(String(error)) ? undefined : reject(error),
      );
      req.end();
    });
    expect(firstBytes).toBeGreaterThan(0);
    expect((await submitValid(target.url)).status).toBe(201);
    const whole = await waitFor(async () => {
      const response = await fetch(url, { headers: { 'x-api-key': RECIPIENT.key } });
      return response.status === 200 ? Buffer.from(await response.arrayBuffer()) : undefined;
    });
    expect(whole.length).toBe(SIZE);
    expect(uncaught).toEqual([]);
  });
});
