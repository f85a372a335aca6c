import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock, uuidIdGenerator } from '../../src/core/index.js';
import type { EvidenceRequest, PipelineContext } from '../../src/pipeline/index.js';
import { recordEvidence } from '../../src/pipeline/stage-support.js';
import { createSqliteStore, type Store, type StoredMessage } from '../../src/store/index.js';

/**
 * recordEvidence seals outside the transaction (the TSA round trip) and checks the chain link inside it
 * (review finding: the previous evidence id was read outside the transaction, so an evidence recorded by
 * a parallel job meanwhile left two evidence naming the same predecessor — a forked chain).
 */
describe('recordEvidence: the chain link is decided in the recording transaction', () => {
  let dir: string;
  let store: Store;
  let message: StoredMessage;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qerds-chain-'));
    store = createSqliteStore({ file: join(dir, 'qerds.sqlite'), blobDir: join(dir, 'blobs') });
    await store.migrate();
    await store.transaction(async (tx) => {
      await tx.insertMessage({
        id: 'm1',
        ebmsMessageId: 'm1@c2',
        role: 'recipient-ap',
        state: 'received',
        sender: { scheme: '0088', value: 'a' },
        recipient: { scheme: '0088', value: 'b' },
        parts: [],
        submittedAt: new Date(),
      });
      await tx.insertEvidence({
        id: 'e1',
        messageId: 'm1',
        event: 'RelayAcceptance',
        eventTime: new Date(),
        xml: '<e1/>',
        issuedBy: 'ap',
      });
    });
    message = (await store.getMessage('m1'))!;
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('seals again on the new head when another evidence was recorded while it sealed; the chain stays linear', async () => {
    const requests: EvidenceRequest[] = [];
    const ctx = {
      self: { id: 'ap', name: 'AP' },
      store,
      clock: systemClock,
      ids: uuidIdGenerator,
      log: pino({ level: 'silent' }),
      poke: () => undefined,
      evidence: {
        async issue(request: EvidenceRequest) {
          requests.push(request);
          // While the first seal is under way a parallel job of the same message records its evidence.
          if (requests.length === 1) {
            await store.transaction((tx) =>
              tx.insertEvidence({
                id: 'e2',
                messageId: 'm1',
                event: 'NotificationForAcceptance',
                eventTime: new Date(),
                xml: '<e2/>',
                issuedBy: 'ap',
              }),
            );
          }
          return {
            id: `sealed-${requests.length}`,
            event: request.event,
            eventTime: new Date(),
            xml: `<sealed n="${requests.length}"/>`,
          };
        },
      },
    } as unknown as PipelineContext;
    const recorded = await recordEvidence(
      ctx,
      message,
      { event: 'ContentConsignment' },
      { from: 'received', to: 'consigned' },
    );
    expect(requests.map((r) => r.previousEvidenceId)).toEqual(['e1', 'e2']);
    expect(recorded.id).toBe('sealed-2');
    expect((await store.listEvidence('m1')).map((e) => e.id)).toEqual(['e1', 'e2', 'sealed-2']);
    expect((await store.getMessage('m1'))?.state).toBe('consigned');
  });
});
