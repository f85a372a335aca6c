import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/index.js';
import type { NewMessage, OutboxEntry, Store, StoredBlob } from '../../src/store/index.js';

/** A fresh, migrated store for one test, and what the suite may need around it. */
export interface StoreHarness {
  readonly store: Store;
  readonly blobDir: string;
  /** A second store on the same database (another process, as it were). */
  openSibling(): Promise<Store>;
  /**
   * Whether the sibling may run concurrently with `store` in this process. Not for SQLite: its driver
   * is synchronous, so a sibling waiting for the write lock would block the event loop that the lock
   * holder needs to commit. Concurrency cases then share one store (serialised by its connection).
   */
  readonly siblingIsConcurrent: boolean;
  /** Closes everything opened and removes the database (schema / file) and blob directory. */
  dispose(): Promise<void>;
}

export type StoreFactory = (options: { clock: Clock }) => Promise<StoreHarness>;

/** A clock the test moves by hand. */
export function manualClock(start = '2030-01-01T00:00:00.000Z') {
  let now = new Date(start);
  return {
    now: () => new Date(now),
    set(iso: string) {
      now = new Date(iso);
    },
    advance(ms: number) {
      now = new Date(now.getTime() + ms);
    },
  };
}

let serial = 0;
export function newMessage(overrides: Partial<NewMessage> = {}): NewMessage {
  serial += 1;
  return {
    id: `msg-${serial}-${Math.random().toString(16).slice(2)}`,
    ebmsMessageId: `ebms-${serial}-${Math.random().toString(16).slice(2)}@test`,
    role: 'sender-ap',
    state: 'submitted',
    sender: { scheme: '0188', value: '1234567890123' },
    recipient: { scheme: 'email', value: 'bob:with-colon@example.org' },
    subject: 'Invoice 42',
    parts: [
      {
        partId: 'part-1@test',
        contentType: 'application/pdf',
        filename: 'invoice.pdf',
        sha256: 'a'.repeat(64),
        size: 1234,
      },
      { partId: 'part-2@test', contentType: 'application/xml', sha256: 'b'.repeat(64), size: 99 },
    ],
    submittedAt: new Date('2029-12-31T23:59:59.123Z'),
    ...overrides,
  };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'QerdsError', code });
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Every file under `dir`, relative, temp files included. */
/** The files under `dir` (none when it was never made: no blob was ever a file). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/**
 * The Store contract, run against every adapter (SQLite, PostgreSQL). An adapter is only done when it
 * passes all of it.
 */
export function describeStoreConformance(name: string, factory: StoreFactory): void {
  describe(`Store conformance: ${name}`, () => {
    let clock: ReturnType<typeof manualClock>;
    let harness: StoreHarness;
    let store: Store;
    /** Another store to race against `store`, where the adapter allows it in one process. */
    const rival = async () => (harness.siblingIsConcurrent ? harness.openSibling() : store);

    beforeEach(async () => {
      clock = manualClock();
      harness = undefined as unknown as StoreHarness;
      harness = await factory({ clock });
      store = harness.store;
    });

    afterEach(async () => {
      // Absent when the factory failed: that failure is the one to report.
      await harness?.dispose();
    });

    describe('migrations', () => {
      it('are idempotent: running them again, here or from another connection, changes nothing', async () => {
        await store.migrate();
        await store.migrate();
        const sibling = await harness.openSibling();
        await sibling.migrate();
        await store.transaction((tx) => tx.insertMessage(newMessage({ id: 'm-after-migrate' })));
        expect((await sibling.getMessage('m-after-migrate'))?.id).toBe('m-after-migrate');
      });
    });

    describe('reception keys and peer receipts (Peppol: SBDH instance ids, receipts bound in RelayAcceptance)', () => {
      it('a reception key names one message: found by it; a second use, in another transaction or racing on another connection, is STORE_DUPLICATE and rolls its transaction back', async () => {
        await store.transaction(async (tx) => {
          await tx.insertMessage(
            newMessage({ id: 'm-key-1', ebmsMessageId: 'e-key-1', role: 'recipient-ap' }),
          );
          await tx.insertReceptionKey('sbdh\nsender\ninstance-1', 'm-key-1');
        });
        expect((await store.findMessageByReceptionKey('sbdh\nsender\ninstance-1'))?.id).toBe('m-key-1');
        expect(await store.findMessageByReceptionKey('sbdh\nsender\ninstance-2')).toBeUndefined();
        await expect(
          store.transaction(async (tx) => {
            await tx.insertMessage(
              newMessage({ id: 'm-key-2', ebmsMessageId: 'e-key-2', role: 'recipient-ap' }),
            );
            await tx.insertReceptionKey('sbdh\nsender\ninstance-1', 'm-key-2');
          }),
        ).rejects.toMatchObject({ code: 'STORE_DUPLICATE' });
        expect(await store.getMessage('m-key-2')).toBeUndefined();
        const other = await rival();
        const race = await Promise.allSettled(
          [store, other].map((s, i) =>
            s.transaction(async (tx) => {
              await tx.insertMessage(
                newMessage({ id: `m-race-${i}`, ebmsMessageId: `e-race-${i}`, role: 'recipient-ap' }),
              );
              await tx.insertReceptionKey('sbdh\nsender\ninstance-race', `m-race-${i}`);
            }),
          ),
        );
        expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(race.find((r) => r.status === 'rejected')).toMatchObject({
          reason: expect.objectContaining({ code: 'STORE_DUPLICATE' }),
        });
      });

      it('keeps a peer receipt as received, once per content, listed oldest first', async () => {
        const receipt = (xml: string, at: string) => ({
          messageId: 'm-receipts',
          sha256: createHash('sha256').update(xml, 'utf8').digest('hex'),
          xml,
          receivedAt: new Date(at),
        });
        const first = receipt('<Receipt>ü 1</Receipt>', '2030-01-01T00:00:01.000Z');
        const second = receipt('<Receipt>2</Receipt>', '2030-01-01T00:00:02.000Z');
        await store.insertPeerReceipt(second);
        await store.insertPeerReceipt(first);
        await store.insertPeerReceipt({ ...first, receivedAt: new Date('2030-01-01T00:00:03.000Z') });
        expect(await store.listPeerReceipts('m-receipts')).toEqual([first, second]);
        expect(await store.listPeerReceipts('m-other')).toEqual([]);
      });

      it('lists the messages active in a period: an evidence or a peer receipt in since ≤ t < until, each message once, oldest submission first', async () => {
        const since = new Date('2030-02-01T00:00:00.000Z');
        const until = new Date('2030-03-01T00:00:00.000Z');
        const at = (iso: string) => new Date(iso);
        // [id, submitted, evidence times, receipt times]
        const cases: [string, string, string[], string[]][] = [
          ['m-act-before', '2030-01-10T00:00:00.000Z', ['2030-01-31T23:59:59.999Z'], []],
          ['m-act-since', '2030-01-31T23:00:00.000Z', ['2030-02-01T00:00:00.000Z'], []],
          [
            'm-act-inside',
            '2030-02-10T00:00:00.000Z',
            ['2030-02-10T00:00:01.000Z', '2030-02-11T00:00:00.000Z'],
            [],
          ],
          [
            'm-act-receipt',
            '2030-01-31T22:00:00.000Z',
            ['2030-01-31T22:00:00.000Z'],
            ['2030-02-28T23:59:59.999Z'],
          ],
          [
            'm-act-until',
            '2030-02-28T00:00:00.000Z',
            ['2030-03-01T00:00:00.000Z'],
            ['2030-03-01T00:00:00.000Z'],
          ],
          ['m-act-after', '2030-03-05T00:00:00.000Z', ['2030-03-05T00:00:00.000Z'], []],
        ];
        for (const [id, submitted, evidences, receipts] of cases) {
          await store.transaction(async (tx) => {
            await tx.insertMessage(newMessage({ id, submittedAt: at(submitted) }));
            for (const [i, t] of evidences.entries())
              await tx.insertEvidence({
                id: `${id}-ev-${i}`,
                messageId: id,
                event: 'SubmissionAcceptance',
                eventTime: at(t),
                xml: '<x/>',
                issuedBy: 'ap',
              });
          });
          for (const t of receipts)
            await store.insertPeerReceipt({
              messageId: id,
              sha256: createHash('sha256').update(`${id}${t}`).digest('hex'),
              xml: '<Receipt/>',
              receivedAt: at(t),
            });
        }
        const active = await store.listMessagesActiveBetween({ since, until });
        expect(active.map((m) => m.id)).toEqual(['m-act-receipt', 'm-act-since', 'm-act-inside']);
        expect((await store.listMessagesActiveBetween({ since, until, limit: 1 })).map((m) => m.id)).toEqual([
          'm-act-receipt',
        ]);
        expect(
          await store.listMessagesActiveBetween({ since: until, until: at('2030-03-02T00:00:00.000Z') }),
        ).toHaveLength(1);
      });
    });

    describe('pickup links', () => {
      it('claims a link once: the first claim wins, later and concurrent ones (any connection) lose', async () => {
        const at = new Date('2030-01-01T00:00:00Z');
        expect(await store.claimPickupLink('link-1', 'm-1', at)).toBe(true);
        expect(await store.claimPickupLink('link-1', 'm-1', at)).toBe(false);
        const sibling = await harness.openSibling();
        expect(await sibling.claimPickupLink('link-1', 'm-1', at)).toBe(false);
        const race = await Promise.all([
          store.claimPickupLink('link-2', 'm-1', at),
          sibling.claimPickupLink('link-2', 'm-1', at),
        ]);
        expect(race.filter(Boolean)).toHaveLength(1);
      });
    });

    describe('idempotency keys', () => {
      const t0 = new Date('2030-01-01T00:00:00.000Z');
      const at = (ms: number) => new Date(t0.getTime() + ms);
      const day = 24 * 3600_000;
      const claim = (s: Store, key: string, fingerprint: string, now: Date, account = '0088:alice') =>
        s.claimIdempotencyKey({
          account,
          key,
          fingerprint,
          now,
          expiresAt: new Date(now.getTime() + day),
          staleBefore: new Date(now.getTime() - 3600_000),
        });
      const response = {
        status: 201,
        headers: { location: '/api/v1/messages/m-1', 'content-type': 'application/json; charset=utf-8' },
        body: '{"id":"m-1"}',
      };

      it('claims a key once per account; in progress it reports the fingerprint, done it replays the response', async () => {
        const first = await claim(store, 'k-1', 'f-1', at(0));
        expect(first.claimed).toBe(true);
        expect(await claim(store, 'k-1', 'f-1', at(1000))).toEqual({ claimed: false, fingerprint: 'f-1' });
        // Scoped per account: another participant's identical key is its own.
        expect((await claim(store, 'k-1', 'f-9', at(1000), '0088:bob')).claimed).toBe(true);
        expect(await store.completeIdempotencyKey('0088:alice', 'k-1', 'not-the-token', response)).toBe(
          false,
        );
        expect(
          await store.completeIdempotencyKey(
            '0088:alice',
            'k-1',
            (first as { token: string }).token,
            response,
          ),
        ).toBe(true);
        const sibling = await harness.openSibling();
        expect(await claim(sibling, 'k-1', 'f-2', at(2000))).toEqual({
          claimed: false,
          fingerprint: 'f-1',
          response,
        });
      });

      it('of two concurrent claims (any connection) one wins', async () => {
        const sibling = await rival();
        const race = await Promise.all([
          claim(store, 'k-race', 'f', at(0)),
          claim(sibling, 'k-race', 'f', at(0)),
          claim(store, 'k-race', 'f', at(0)),
        ]);
        expect(race.filter((r) => r.claimed)).toHaveLength(1);
      });

      it('keeps a key until it expires (24 h here), then lets it be claimed anew; a released or stale claim is free again', async () => {
        const first = await claim(store, 'k-2', 'f-1', at(0));
        await store.completeIdempotencyKey('0088:alice', 'k-2', (first as { token: string }).token, response);
        expect((await claim(store, 'k-2', 'f-2', at(day - 1))).claimed).toBe(false);
        expect((await claim(store, 'k-2', 'f-2', at(day))).claimed).toBe(true);

        const released = await claim(store, 'k-3', 'f-1', at(0));
        await store.releaseIdempotencyKey('0088:alice', 'k-3', (released as { token: string }).token);
        expect((await claim(store, 'k-3', 'f-1', at(1))).claimed).toBe(true);

        // A claim whose process died (still in progress after the stale limit, an hour here) is taken over,
        // and the dead owner can no longer complete it.
        const dead = await claim(store, 'k-4', 'f-1', at(0));
        expect((await claim(store, 'k-4', 'f-1', at(3600_000 - 1))).claimed).toBe(false);
        const taken = await claim(store, 'k-4', 'f-1', at(3600_000 + 1));
        expect(taken.claimed).toBe(true);
        expect(
          await store.completeIdempotencyKey(
            '0088:alice',
            'k-4',
            (dead as { token: string }).token,
            response,
          ),
        ).toBe(false);
      });
    });

    describe('messages', () => {
      it('round-trips a message: participants, parts, dates, optional fields', async () => {
        // Extra fields on a part are not stored: what insertMessage returns is what a read finds.
        const input = newMessage({ peer: 'https://c3.example/as4' });
        const withExtra = { ...input, parts: input.parts.map((p) => ({ ...p, body: 'not stored' })) };
        const returned = await store.transaction((tx) => tx.insertMessage(withExtra));
        const stored = await store.getMessage(input.id);
        expect(stored).toEqual({ ...input, attempts: 0, updatedAt: clock.now() });
        expect(returned).toStrictEqual(stored);
        expect(stored?.submittedAt).toBeInstanceOf(Date);
        expect(stored?.submittedAt.toISOString()).toBe('2029-12-31T23:59:59.123Z');
        expect(stored?.parts[1]).not.toHaveProperty('filename');
        expect(stored).not.toHaveProperty('lastError');

        const bare = newMessage({ subject: undefined, parts: [] });
        const bareReturned = await store.transaction((tx) => tx.insertMessage(bare));
        const bareStored = await store.getMessage(bare.id);
        expect(bareReturned).toStrictEqual(bareStored);
        expect(bareStored).not.toHaveProperty('subject');
        expect(bareStored).not.toHaveProperty('peer');
        expect(bareStored?.parts).toEqual([]);
      });

      it('round-trips the end-to-end fields of an encrypted part (plaintext digest and size, original type)', async () => {
        const encrypted = {
          partId: 'part-1@test',
          contentType: 'application/pkcs7-mime; smime-type=authEnveloped-data',
          filename: 'invoice.pdf',
          sha256: 'c'.repeat(64),
          size: 1300,
          plaintextSha256: 'd'.repeat(64),
          plaintextSize: 1234,
          originalContentType: 'application/pdf',
        };
        const input = newMessage({
          parts: [
            encrypted,
            { partId: 'part-2@test', contentType: 'text/plain', sha256: 'e'.repeat(64), size: 1 },
          ],
        });
        await store.transaction((tx) => tx.insertMessage(input));
        const stored = await store.getMessage(input.id);
        expect(stored?.parts[0]).toEqual(encrypted);
        expect(Object.keys(stored?.parts[1] ?? {}).sort()).toEqual([
          'contentType',
          'partId',
          'sha256',
          'size',
        ]);
      });

      it('finds by ebMS MessageId and role, and is undefined when absent', async () => {
        const input = newMessage();
        await store.transaction((tx) => tx.insertMessage(input));
        expect((await store.findMessageByEbmsId(input.ebmsMessageId, 'sender-ap'))?.id).toBe(input.id);
        expect(await store.findMessageByEbmsId(input.ebmsMessageId, 'recipient-ap')).toBeUndefined();
        expect(await store.getMessage('nope')).toBeUndefined();
      });

      it('rejects a second message with the same ebMS MessageId in the same role, not in the other', async () => {
        const first = newMessage();
        await store.transaction((tx) => tx.insertMessage(first));
        await expectCode(
          store.transaction((tx) => tx.insertMessage(newMessage({ ebmsMessageId: first.ebmsMessageId }))),
          'STORE_DUPLICATE',
        );
        await expectCode(
          store.transaction((tx) => tx.insertMessage(newMessage({ id: first.id }))),
          'STORE_DUPLICATE',
        );
        await store.transaction((tx) =>
          tx.insertMessage(
            newMessage({ ebmsMessageId: first.ebmsMessageId, role: 'recipient-ap', state: 'received' }),
          ),
        );
        expect(await store.listMessages()).toHaveLength(2);
      });

      it('lists newest first, filtered by state, up to the limit', async () => {
        const a = newMessage({ submittedAt: new Date('2030-01-01T00:00:01.000Z') });
        const b = newMessage({
          submittedAt: new Date('2030-01-01T00:00:02.000Z'),
          state: 'received',
          role: 'recipient-ap',
        });
        const c = newMessage({ submittedAt: new Date('2030-01-01T00:00:03.000Z') });
        await store.transaction(async (tx) => {
          for (const m of [a, b, c]) await tx.insertMessage(m);
        });
        expect((await store.listMessages()).map((m) => m.id)).toEqual([c.id, b.id, a.id]);
        expect((await store.listMessages({ state: 'submitted' })).map((m) => m.id)).toEqual([c.id, a.id]);
        expect((await store.listMessages({ limit: 1 })).map((m) => m.id)).toEqual([c.id]);
      });
    });

    describe('transitions (compare-and-set)', () => {
      it('moves the state only from the expected state and applies the patch', async () => {
        const m = newMessage();
        await store.transaction((tx) => tx.insertMessage(m));
        clock.advance(1500);
        expect(
          await store.transaction((tx) =>
            tx.transitionMessage(m.id, 'submitted', 'relaying', {
              attempts: 2,
              lastError: 'AS4_X',
              peer: 'p',
            }),
          ),
        ).toBe(true);
        const after = await store.getMessage(m.id);
        expect(after).toMatchObject({ state: 'relaying', attempts: 2, lastError: 'AS4_X', peer: 'p' });
        expect(after?.updatedAt.toISOString()).toBe('2030-01-01T00:00:01.500Z');

        // Wrong `from`: nothing changes.
        expect(await store.transaction((tx) => tx.transitionMessage(m.id, 'submitted', 'relaying'))).toBe(
          false,
        );
        expect(
          await store.transaction((tx) => tx.transitionMessage('missing', 'submitted', 'relaying')),
        ).toBe(false);
        expect((await store.getMessage(m.id))?.state).toBe('relaying');
      });

      it('refuses a transition the state machine does not allow (STATE_CONFLICT), even from the right state', async () => {
        const m = newMessage();
        await store.transaction((tx) => tx.insertMessage(m));
        await expectCode(
          store.transaction((tx) => tx.transitionMessage(m.id, 'submitted', 'delivered')),
          'STATE_CONFLICT',
        );
        await expectCode(
          store.transaction((tx) => tx.transitionMessage(m.id, 'delivered', 'submitted')),
          'STATE_CONFLICT',
        );
        expect((await store.getMessage(m.id))?.state).toBe('submitted');
      });

      it('lets exactly one of several concurrent identical transitions win', async () => {
        const m = newMessage();
        await store.transaction((tx) => tx.insertMessage(m));
        const sibling = await rival();
        const results = await Promise.all(
          [store, sibling, store, sibling].map((s) =>
            s.transaction((tx) => tx.transitionMessage(m.id, 'submitted', 'relaying')),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('are the same compare-and-set outside a transaction (store.transitionMessage: one statement)', async () => {
        const m = newMessage();
        await store.transaction((tx) => tx.insertMessage(m));
        clock.advance(2500);
        await expectCode(store.transitionMessage(m.id, 'submitted', 'delivered'), 'STATE_CONFLICT');
        const sibling = await rival();
        const results = await Promise.all(
          [store, sibling, store, sibling].map((s) =>
            s.transitionMessage(m.id, 'submitted', 'relaying', { attempts: 1, lastError: 'AS4_Y' }),
          ),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.transitionMessage(m.id, 'submitted', 'relaying')).toBe(false);
        expect(await store.transitionMessage('missing', 'submitted', 'relaying')).toBe(false);
        const after = await store.getMessage(m.id);
        expect(after).toMatchObject({ state: 'relaying', attempts: 1, lastError: 'AS4_Y' });
        expect(after?.updatedAt.toISOString()).toBe('2030-01-01T00:00:02.500Z');
      });
    });

    describe('transactions', () => {
      it('roll back everything on a throw: message, evidence and outbox all absent', async () => {
        const m = newMessage();
        const boom = new Error('boom');
        await expect(
          store.transaction(async (tx) => {
            await tx.insertMessage(m);
            await tx.insertEvidence({
              id: 'ev-rollback',
              messageId: m.id,
              event: 'SubmissionAcceptance',
              eventTime: clock.now(),
              xml: '<x/>',
              issuedBy: 'ap',
            });
            await tx.enqueue('relay', m.id, { a: 1 });
            throw boom;
          }),
        ).rejects.toBe(boom);
        expect(await store.getMessage(m.id)).toBeUndefined();
        expect(await store.getEvidence('ev-rollback')).toBeUndefined();
        expect(await store.listEvidence(m.id)).toEqual([]);
        clock.advance(60_000);
        expect(await store.leaseOutbox(10, 1000, clock.now())).toEqual([]);
      });

      it('return the work result when committed', async () => {
        const m = newMessage();
        const out = await store.transaction(async (tx) => {
          await tx.insertMessage(m);
          return 'ok';
        });
        expect(out).toBe('ok');
        expect(await store.getMessage(m.id)).toBeDefined();
      });
    });

    describe('evidence', () => {
      it('numbers evidence 1, 2, 3… per message and returns it in that order', async () => {
        const a = newMessage();
        const b = newMessage();
        await store.transaction(async (tx) => {
          await tx.insertMessage(a);
          await tx.insertMessage(b);
        });
        const add = (id: string, messageId: string) =>
          store.transaction((tx) =>
            tx.insertEvidence({
              id,
              messageId,
              event: 'RelayAcceptance',
              eventTime: new Date('2030-02-03T04:05:06.789Z'),
              xml: `<ev id="${id}">ü</ev>`,
              issuedBy: 'urn:ap',
            }),
          );
        expect((await add('a1', a.id)).sequence).toBe(1);
        expect((await add('b1', b.id)).sequence).toBe(1);
        expect((await add('a2', a.id)).sequence).toBe(2);
        expect((await add('a3', a.id)).sequence).toBe(3);
        expect((await add('b2', b.id)).sequence).toBe(2);
        expect((await store.listEvidence(a.id)).map((e) => [e.id, e.sequence])).toEqual([
          ['a1', 1],
          ['a2', 2],
          ['a3', 3],
        ]);
        expect(await store.getEvidence('a2')).toEqual({
          id: 'a2',
          messageId: a.id,
          event: 'RelayAcceptance',
          eventTime: new Date('2030-02-03T04:05:06.789Z'),
          xml: '<ev id="a2">ü</ev>',
          sequence: 2,
          issuedBy: 'urn:ap',
        });
        expect(await store.getEvidence('nope')).toBeUndefined();
        // The head alone: what the chain's last element is, without reading the others.
        expect(await store.evidenceHead(a.id)).toEqual({ id: 'a3', sequence: 3 });
        expect(await store.evidenceHead(b.id)).toEqual({ id: 'b2', sequence: 2 });
        expect(await store.latestEvidence(a.id)).toEqual((await store.listEvidence(a.id)).at(-1));
        const empty = newMessage();
        await store.transaction((tx) => tx.insertMessage(empty));
        expect(await store.evidenceHead(empty.id)).toBeUndefined();
        expect(await store.latestEvidence(empty.id)).toBeUndefined();
        expect(await store.evidenceHead('no-such-message')).toBeUndefined();
      });

      it('keeps sequences distinct under concurrent writers of one message', async () => {
        const m = newMessage();
        await store.transaction((tx) => tx.insertMessage(m));
        const sibling = await rival();
        const ids = Array.from({ length: 8 }, (_, i) => `conc-${i}`);
        await Promise.all(
          ids.map((id, i) =>
            (i % 2 ? sibling : store).transaction((tx) =>
              tx.insertEvidence({
                id,
                messageId: m.id,
                event: 'SubmissionAcceptance',
                eventTime: clock.now(),
                xml: '<x/>',
                issuedBy: 'ap',
              }),
            ),
          ),
        );
        expect((await store.listEvidence(m.id)).map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      });

      it('records an evidence only on the chain head it names (previousId), else STORE_CHAIN_MOVED and nothing written', async () => {
        const m = newMessage();
        await store.transaction((tx) => tx.insertMessage(m));
        const ev = (id: string) => ({
          id,
          messageId: m.id,
          event: 'SubmissionAcceptance' as const,
          eventTime: clock.now(),
          xml: `<x id="${id}"/>`,
          issuedBy: 'ap',
        });
        await expectCode(
          store.transaction((tx) => tx.insertEvidence(ev('bad-first'), { previousId: 'nothing-yet' })),
          'STORE_CHAIN_MOVED',
        );
        await store.transaction((tx) => tx.insertEvidence(ev('c1'), { previousId: null }));
        await store.transaction((tx) => tx.insertEvidence(ev('c2'), { previousId: 'c1' }));
        // Two sealed on the same head: the second finds the chain moved on.
        await expectCode(
          store.transaction((tx) => tx.insertEvidence(ev('c3-late'), { previousId: 'c1' })),
          'STORE_CHAIN_MOVED',
        );
        await expectCode(
          store.transaction((tx) => tx.insertEvidence(ev('c3-fork'), { previousId: null })),
          'STORE_CHAIN_MOVED',
        );
        expect((await store.listEvidence(m.id)).map((e) => e.id)).toEqual(['c1', 'c2']);
      });

      it('lets one of two writers chaining onto the same head win, under concurrency', async () => {
        const m = newMessage();
        await store.transaction((tx) => tx.insertMessage(m));
        await store.transaction((tx) =>
          tx.insertEvidence({
            id: 'h1',
            messageId: m.id,
            event: 'SubmissionAcceptance',
            eventTime: clock.now(),
            xml: '<x/>',
            issuedBy: 'ap',
          }),
        );
        const sibling = await rival();
        const results = await Promise.allSettled(
          ['r1', 'r2', 'r3', 'r4'].map((id, i) =>
            (i % 2 ? sibling : store).transaction((tx) =>
              tx.insertEvidence(
                {
                  id,
                  messageId: m.id,
                  event: 'RelayAcceptance',
                  eventTime: clock.now(),
                  xml: '<x/>',
                  issuedBy: 'ap',
                },
                { previousId: 'h1' },
              ),
            ),
          ),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results)
          if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'STORE_CHAIN_MOVED' });
        expect(await store.listEvidence(m.id)).toHaveLength(2);
      });

      it('a writer that waited for another writer of the chain sees its evidence: chain moved, next sequence', async () => {
        // Only where two writers really overlap (PostgreSQL): SQLite has one writer at a time.
        if (!harness.siblingIsConcurrent) return;
        const m = newMessage();
        await store.transaction(async (tx) => {
          await tx.insertMessage(m);
          await tx.insertEvidence({
            id: 'w1',
            messageId: m.id,
            event: 'SubmissionAcceptance',
            eventTime: clock.now(),
            xml: '<x/>',
            issuedBy: 'ap',
          });
        });
        const sibling = await harness.openSibling();
        const ev = (id: string) => ({
          id,
          messageId: m.id,
          event: 'RelayFailure' as const,
          eventTime: clock.now(),
          xml: `<x id="${id}"/>`,
          issuedBy: 'ap',
        });
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        let locked!: () => void;
        const hasLock = new Promise<void>((resolve) => (locked = resolve));
        // The first writer holds the message's row (by moving its state, as recordEvidence does) across its insert.
        const first = store.transaction(async (tx) => {
          expect(await tx.transitionMessage(m.id, 'submitted', 'relaying')).toBe(true);
          await tx.insertEvidence(ev('w2'), { previousId: 'w1' });
          locked();
          await held;
        });
        await hasLock;
        // These begin while the first is uncommitted, so they wait for its row lock; what they check after
        // the wait must include w2.
        const late = sibling.transaction((tx) => tx.insertEvidence(ev('w3-late'), { previousId: 'w1' }));
        const next = sibling.transaction((tx) => tx.insertEvidence(ev('w3')));
        await new Promise((resolve) => setTimeout(resolve, 100));
        release();
        await first;
        await expectCode(late, 'STORE_CHAIN_MOVED');
        expect((await next).sequence).toBe(3);
        expect((await store.listEvidence(m.id)).map((e) => [e.id, e.sequence])).toEqual([
          ['w1', 1],
          ['w2', 2],
          ['w3', 3],
        ]);
      });

      it('refuses a duplicate evidence id and evidence about an unknown message', async () => {
        const m = newMessage();
        await store.transaction((tx) => tx.insertMessage(m));
        const ev = {
          id: 'dup',
          messageId: m.id,
          event: 'SubmissionAcceptance' as const,
          eventTime: clock.now(),
          xml: '<x/>',
          issuedBy: 'ap',
        };
        await store.transaction((tx) => tx.insertEvidence(ev));
        await expectCode(
          store.transaction((tx) => tx.insertEvidence(ev)),
          'STORE_DUPLICATE',
        );
        await expectCode(
          store.transaction((tx) => tx.insertEvidence({ ...ev, id: 'orphan', messageId: 'missing' })),
          'NOT_FOUND',
        );
        // Chained (the first of its chain, or after a head), it is not found either, rather than a chain moved.
        for (const previousId of [null, 'dup'])
          await expectCode(
            store.transaction((tx) =>
              tx.insertEvidence({ ...ev, id: 'orphan', messageId: 'missing' }, { previousId }),
            ),
            'NOT_FOUND',
          );
        expect(await store.listEvidence(m.id)).toHaveLength(1);
      });

      it('retention: refuses to delete evidence before eventTime + 10 years, deletes it (and its versions) after', async () => {
        const m = newMessage();
        await store.transaction((tx) => tx.insertMessage(m));
        const eventTime = new Date('2030-02-03T04:05:06.789Z');
        await store.transaction((tx) =>
          tx.insertEvidence({
            id: 'kept',
            messageId: m.id,
            event: 'SubmissionAcceptance',
            eventTime,
            xml: '<v1/>',
            issuedBy: 'ap',
          }),
        );
        await store.replaceEvidenceXml('kept', '<v2/>', new Date('2035-01-01T00:00:00.000Z'));
        await expectCode(
          store.deleteEvidence('kept', new Date('2030-02-03T04:05:06.790Z')),
          'EVIDENCE_RETENTION_ACTIVE',
        );
        // One millisecond before the tenth anniversary of the event: still kept.
        await expectCode(
          store.deleteEvidence('kept', new Date('2040-02-03T04:05:06.788Z')),
          'EVIDENCE_RETENTION_ACTIVE',
        );
        expect((await store.getEvidence('kept'))?.xml).toBe('<v2/>');
        await store.deleteEvidence('kept', new Date('2040-02-03T04:05:06.789Z'));
        expect(await store.getEvidence('kept')).toBeUndefined();
        expect(await store.listEvidenceVersions('kept')).toEqual([]);
        await expectCode(store.deleteEvidence('kept', new Date('2041-01-01T00:00:00.000Z')), 'NOT_FOUND');
      });

      it('replaces an evidence XML keeping every superseded version, oldest first; pages through all evidence by id', async () => {
        const m = newMessage();
        await store.transaction((tx) => tx.insertMessage(m));
        for (const id of ['r-c', 'r-a', 'r-b']) {
          await store.transaction((tx) =>
            tx.insertEvidence({
              id,
              messageId: m.id,
              event: 'RelayAcceptance',
              eventTime: clock.now(),
              xml: `<${id}-1/>`,
              issuedBy: 'ap',
            }),
          );
        }
        await store.replaceEvidenceXml('r-a', '<r-a-2/>', new Date('2031-01-01T00:00:00.000Z'));
        await store.replaceEvidenceXml('r-a', '<r-a-3/>', new Date('2032-01-01T00:00:00.000Z'));
        expect((await store.getEvidence('r-a'))?.xml).toBe('<r-a-3/>');
        expect(await store.listEvidenceVersions('r-a')).toEqual([
          { version: 1, xml: '<r-a-1/>', replacedAt: new Date('2031-01-01T00:00:00.000Z') },
          { version: 2, xml: '<r-a-2/>', replacedAt: new Date('2032-01-01T00:00:00.000Z') },
        ]);
        await expectCode(store.replaceEvidenceXml('nope', '<x/>', clock.now()), 'NOT_FOUND');
        const first = await store.scanEvidence({ limit: 2 });
        expect(first.map((e) => e.id)).toEqual(['r-a', 'r-b']);
        expect((await store.scanEvidence({ afterId: first.at(-1)!.id, limit: 2 })).map((e) => e.id)).toEqual([
          'r-c',
        ]);
      });
    });

    describe('outbox', () => {
      const t0 = '2030-01-01T00:00:00.000Z';
      const at = (ms: number) => new Date(new Date(t0).getTime() + ms);

      it('leases a committed entry once, with its data; the lease hides it until it expires', async () => {
        const m = newMessage();
        await store.transaction(async (tx) => {
          await tx.insertMessage(m);
          await tx.enqueue('relay', m.id, { evidenceId: 'ev-1', n: 2 });
        });
        const [entry, ...rest] = await store.leaseOutbox(10, 5000, at(0));
        expect(rest).toEqual([]);
        expect(entry).toMatchObject({
          stage: 'relay',
          messageId: m.id,
          data: { evidenceId: 'ev-1', n: 2 },
          attempts: 0,
          createdAt: at(0),
        });
        expect(typeof entry?.id).toBe('number');
        expect(await store.leaseOutbox(10, 5000, at(4999))).toEqual([]);
        // The worker "crashed": when the lease runs out the entry is handed out again.
        expect((await store.leaseOutbox(10, 5000, at(5000))).map((e) => e.id)).toEqual([entry!.id]);
      });

      it('respects notBefore', async () => {
        const m = newMessage();
        await store.transaction(async (tx) => {
          await tx.insertMessage(m);
          await tx.enqueue('deliver', m.id, {}, { notBefore: at(10_000) });
        });
        expect(await store.leaseOutbox(10, 1000, at(9_999))).toEqual([]);
        expect(await store.leaseOutbox(10, 1000, at(10_000))).toHaveLength(1);
      });

      it('completes (removes) and retries (attempts + 1, due again at retryAt, lease dropped)', async () => {
        const m = newMessage();
        await store.transaction(async (tx) => {
          await tx.insertMessage(m);
          await tx.enqueue('relay', m.id);
          await tx.enqueue('notify', m.id, { evidenceId: 'e' });
        });
        const leased = await store.leaseOutbox(10, 60_000, at(0));
        expect(leased.map((e) => e.stage)).toEqual(['relay', 'notify']);
        const [relay, notify] = leased as [OutboxEntry, OutboxEntry];
        await store.completeOutbox(notify.id);
        await store.retryOutbox(relay.id, at(2000), 'AS4_TIMEOUT');
        expect(await store.leaseOutbox(10, 60_000, at(1999))).toEqual([]);
        const again = await store.leaseOutbox(10, 60_000, at(2000));
        expect(again).toHaveLength(1);
        expect(again[0]).toMatchObject({ id: relay.id, attempts: 1, stage: 'relay' });
        await store.retryOutbox(relay.id, at(3000), 'AS4_TIMEOUT');
        expect((await store.leaseOutbox(10, 60_000, at(3000)))[0]?.attempts).toBe(2);
        await store.completeOutbox(relay.id);
        expect(await store.leaseOutbox(10, 60_000, at(1_000_000))).toEqual([]);
      });

      it('hands out at most `limit`, oldest due first', async () => {
        const m = newMessage();
        await store.transaction(async (tx) => {
          await tx.insertMessage(m);
          for (let i = 0; i < 5; i++)
            await tx.enqueue('notify', m.id, { i }, { notBefore: at(100 - i * 10) });
        });
        const first = await store.leaseOutbox(2, 1000, at(1000));
        expect(first.map((e) => e.data.i)).toEqual([4, 3]);
        const next = await store.leaseOutbox(10, 1000, at(1000));
        expect(next.map((e) => e.data.i)).toEqual([2, 1, 0]);
        expect(await store.leaseOutbox(0, 1000, at(1000))).toEqual([]);
      });

      it('keeps the order of the entries one transaction enqueued, each with its own stage and data', async () => {
        const m = newMessage();
        await store.transaction(async (tx) => {
          await tx.insertMessage(m);
          await tx.enqueue('notify', m.id, { n: 0 });
          await tx.enqueue('deliver', m.id);
          await tx.enqueue('notify', m.id, { n: 2 });
        });
        const leased = await store.leaseOutbox(10, 1000, clock.now());
        expect(leased.map((e) => [e.stage, e.data])).toEqual([
          ['notify', { n: 0 }],
          ['deliver', {}],
          ['notify', { n: 2 }],
        ]);
        expect(leased.map((e) => e.id)).toEqual([...leased.map((e) => e.id)].sort((a, b) => a - b));
      });

      it('never hands the same entry to two concurrent leasers', async () => {
        const m = newMessage();
        const total = 60;
        await store.transaction(async (tx) => {
          await tx.insertMessage(m);
          for (let i = 0; i < total; i++) await tx.enqueue('relay', m.id, { i });
        });
        const sibling = await rival();
        const leasers = [store, sibling, store, sibling, store, sibling];
        const seen: number[] = [];
        await Promise.all(
          leasers.map(async (s) => {
            for (;;) {
              const batch = await s.leaseOutbox(3, 60_000, at(0));
              if (batch.length === 0) return;
              seen.push(...batch.map((e) => e.id));
            }
          }),
        );
        expect(seen).toHaveLength(total);
        expect(new Set(seen).size).toBe(total);
      });
    });

    describe('outbox leases (owner token)', () => {
      const t0 = '2030-01-01T00:00:00.000Z';
      const at = (ms: number) => new Date(new Date(t0).getTime() + ms);
      const enqueueOne = async () => {
        const m = newMessage();
        await store.transaction(async (tx) => {
          await tx.insertMessage(m);
          await tx.enqueue('relay', m.id);
        });
      };

      it('hands out a token per lease; a renewal by the owner keeps the entry hidden past its first expiry', async () => {
        await enqueueOne();
        const [entry] = (await store.leaseOutbox(10, 1000, at(0))) as [OutboxEntry];
        expect(typeof entry.leaseToken).toBe('string');
        expect(await store.renewOutboxLease(entry.id, entry.leaseToken!, 1000, at(900))).toBe(true);
        expect(await store.leaseOutbox(10, 1000, at(1500))).toEqual([]);
        expect(await store.renewOutboxLease(entry.id, 'not-the-owner', 1000, at(1500))).toBe(false);
        const [again] = (await store.leaseOutbox(10, 1000, at(1900))) as [OutboxEntry];
        expect(again.id).toBe(entry.id);
        expect(again.leaseToken).not.toBe(entry.leaseToken);
      });

      it('refuses to complete, retry, dead-letter or renew under a lease that was taken over', async () => {
        await enqueueOne();
        const [stale] = (await store.leaseOutbox(10, 1000, at(0))) as [OutboxEntry];
        const [owner] = (await store.leaseOutbox(10, 1000, at(1000))) as [OutboxEntry];
        expect(owner.id).toBe(stale.id);
        expect(await store.completeOutbox(stale.id, stale.leaseToken)).toBe(false);
        expect(await store.retryOutbox(stale.id, at(1), 'X', stale.leaseToken)).toBe(false);
        expect(await store.deadLetterOutbox(stale.id, 'X', at(1), stale.leaseToken)).toBe(false);
        expect(await store.renewOutboxLease(stale.id, stale.leaseToken!, 1000, at(1100))).toBe(false);
        expect(await store.listDeadLetters()).toEqual([]);
        // Untouched: still the owner's, attempts unchanged.
        expect(await store.leaseOutbox(10, 1000, at(1999))).toEqual([]);
        expect(await store.retryOutbox(owner.id, at(2000), 'AS4_TIMEOUT', owner.leaseToken)).toBe(true);
        const [third] = (await store.leaseOutbox(10, 1000, at(2000))) as [OutboxEntry];
        expect(third.attempts).toBe(1);
        // A retried entry's old token settles nothing either.
        expect(await store.completeOutbox(third.id, owner.leaseToken)).toBe(false);
        expect(await store.completeOutbox(third.id, third.leaseToken)).toBe(true);
        expect(await store.leaseOutbox(10, 1000, at(1_000_000))).toEqual([]);
      });

      it('completes several entries in one statement, each only under the lease that owns it', async () => {
        const m = newMessage();
        await store.transaction(async (tx) => {
          await tx.insertMessage(m);
          for (let i = 0; i < 4; i++) await tx.enqueue('notify', m.id, { i });
        });
        const [a, b, c, d] = (await store.leaseOutbox(10, 1000, at(0))) as [
          OutboxEntry,
          OutboxEntry,
          OutboxEntry,
          OutboxEntry,
        ];
        // c's lease runs out and is taken over: its old token completes nothing.
        expect(await store.retryOutbox(c.id, at(0), 'X', c.leaseToken)).toBe(true);
        const [cAgain] = (await store.leaseOutbox(10, 1000, at(1))) as [OutboxEntry];
        expect(cAgain.id).toBe(c.id);
        const removed = await store.completeOutboxEntries([
          { id: a.id, leaseToken: a.leaseToken! },
          { id: b.id, leaseToken: b.leaseToken! },
          { id: c.id, leaseToken: c.leaseToken! },
          { id: d.id + 1000, leaseToken: d.leaseToken! },
        ]);
        expect([...removed].sort()).toEqual([a.id, b.id].sort());
        expect(await store.completeOutboxEntries([])).toEqual(new Set());
        // Without a token (an unleased entry's completion): by id alone.
        expect(
          await store.completeOutboxEntries([
            { id: d.id },
            { id: cAgain.id, leaseToken: cAgain.leaseToken! },
          ]),
        ).toEqual(new Set([d.id, cAgain.id]));
        expect((await store.stats()).outboxByStage).toEqual({});
      });

      it("completes an entry inside a transaction (a job step's commit): removed only when it commits, never under a lease taken over", async () => {
        await enqueueOne();
        const [stale] = (await store.leaseOutbox(10, 1000, at(0))) as [OutboxEntry];
        const [owner] = (await store.leaseOutbox(10, 1000, at(1000))) as [OutboxEntry];
        const rolledBack = new Error('rolled back');
        const step = (token: string | undefined, commit: boolean) =>
          store.transaction(async (tx) => {
            await tx.enqueue('notify', stale.messageId, { step: token });
            const completed = await tx.completeOutbox(owner.id, token);
            if (!commit) throw rolledBack;
            return completed;
          });
        // The stale worker's completion finds the entry another's: it removes nothing (its caller rolls back).
        await expect(step(stale.leaseToken, false)).rejects.toBe(rolledBack);
        expect(await store.renewOutboxLease(owner.id, owner.leaseToken!, 1000, at(1100))).toBe(true);
        // The owner's, rolled back: the entry stays, still the owner's, and the step's other writes are gone too.
        await expect(step(owner.leaseToken, false)).rejects.toBe(rolledBack);
        expect(await store.renewOutboxLease(owner.id, owner.leaseToken!, 1000, at(1200))).toBe(true);
        expect((await store.stats()).outboxByStage).toEqual({ relay: 1 });
        // The owner's, committed: the entry is gone with the step's writes in.
        expect(await step(owner.leaseToken, true)).toBe(true);
        expect((await store.stats()).outboxByStage).toEqual({ notify: 1 });
        expect(await store.renewOutboxLease(owner.id, owner.leaseToken!, 1000, at(1300))).toBe(false);
      });

      it('a lease racing a transaction that completes the entry does not hand the entry out', async () => {
        await enqueueOne();
        const [entry] = (await store.leaseOutbox(10, 1000, at(0))) as [OutboxEntry];
        const other = await rival();
        let raced: Promise<OutboxEntry[]> | undefined;
        await store.transaction(async (tx) => {
          expect(await tx.completeOutbox(entry.id, entry.leaseToken)).toBe(true);
          // Leased anew at a time the first lease has run out. PostgreSQL: the row the transaction removes is
          // locked and skipped at once; SQLite (one connection): the lease waits for this transaction to end.
          raced = other.leaseOutbox(10, 1000, at(5000));
          if (harness.siblingIsConcurrent) expect(await raced).toEqual([]);
        });
        expect(await raced).toEqual([]);
        expect(await store.leaseOutbox(10, 1000, at(10_000))).toEqual([]);
      });
    });

    describe('inbox (keyset paging)', () => {
      it("pages a recipient's messages newest first by cursor, other recipients, roles and states left out", async () => {
        const bob = { scheme: '0088', value: 'bob' };
        const mine: string[] = [];
        await store.transaction(async (tx) => {
          for (let i = 0; i < 7; i++) {
            // Two share a submission time: the id breaks the tie, so no message is skipped or repeated.
            const submittedAt = new Date(Date.UTC(2030, 0, 1, 0, 0, i === 4 ? 3 : i));
            const m = newMessage({
              id: `inbox-${i}`,
              role: 'recipient-ap',
              state: 'received',
              recipient: bob,
              submittedAt,
            });
            await tx.insertMessage(m);
            mine.push(m.id);
          }
          await tx.insertMessage(
            newMessage({
              role: 'recipient-ap',
              state: 'received',
              recipient: { scheme: '0088', value: 'eve' },
            }),
          );
          await tx.insertMessage(newMessage({ role: 'sender-ap', state: 'submitted', recipient: bob }));
          await tx.insertMessage(newMessage({ role: 'recipient-ap', state: 'rejected', recipient: bob }));
        });
        const expected = ['inbox-6', 'inbox-5', 'inbox-4', 'inbox-3', 'inbox-2', 'inbox-1', 'inbox-0'];
        const seen: string[] = [];
        let after: string | undefined;
        let pages = 0;
        do {
          const page = await store.listInbox({
            recipient: '0088:bob',
            states: ['received', 'consigned', 'delivered'],
            limit: 3,
            ...(after === undefined ? {} : { after }),
          });
          seen.push(...page.messages.map((m) => m.id));
          after = page.next;
          pages += 1;
        } while (after !== undefined);
        expect(seen).toEqual(expected);
        expect(pages).toBe(3);
        expect(
          (await store.listInbox({ recipient: '0088:bob', states: ['received'], limit: 7 })).next,
        ).toBeUndefined();
        expect((await store.listInbox({ recipient: '0088:bob', states: [] })).messages).toEqual([]);
        await expectCode(
          store.listInbox({ recipient: '0088:bob', states: ['received'], after: 'bm90LWEtY3Vyc29y' }),
          'BAD_REQUEST',
        );
      });
    });

    describe('sent messages (keyset paging, filters)', () => {
      it("lists a sender's own submissions newest first, filtered by state, recipient, time range and reference", async () => {
        const alice = { scheme: '0088', value: 'alice' };
        const bob = { scheme: '0088', value: 'bob' };
        const carol = { scheme: '0088', value: 'carol' };
        await store.transaction(async (tx) => {
          for (let i = 0; i < 6; i++) {
            await tx.insertMessage(
              newMessage({
                id: `sent-${i}`,
                sender: alice,
                recipient: i % 2 === 0 ? bob : carol,
                state: i === 5 ? 'rejected' : 'submitted',
                reference: `PO-${i}`,
                submittedAt: new Date(Date.UTC(2030, 0, 1, 0, 0, i)),
              }),
            );
          }
          // Not alice's submissions: someone else's, and a message alice received (recipient-ap role).
          await tx.insertMessage(newMessage({ sender: bob, recipient: alice, reference: 'PO-1' }));
          await tx.insertMessage(
            newMessage({ role: 'recipient-ap', state: 'received', sender: alice, recipient: bob }),
          );
        });
        const ids = async (filter: Omit<Parameters<Store['listSent']>[0], 'sender'>) =>
          (await store.listSent({ sender: '0088:alice', ...filter })).messages.map((m) => m.id);
        expect(await ids({})).toEqual(['sent-5', 'sent-4', 'sent-3', 'sent-2', 'sent-1', 'sent-0']);
        expect(await ids({ states: ['rejected'] })).toEqual(['sent-5']);
        expect(await ids({ states: [] })).toEqual([]);
        expect(await ids({ recipient: '0088:bob' })).toEqual(['sent-4', 'sent-2', 'sent-0']);
        expect(
          await ids({
            since: new Date(Date.UTC(2030, 0, 1, 0, 0, 2)),
            until: new Date(Date.UTC(2030, 0, 1, 0, 0, 4)),
          }),
        ).toEqual(['sent-3', 'sent-2']);
        expect(await ids({ reference: 'PO-1' })).toEqual(['sent-1']);
        expect((await store.getMessage('sent-3'))?.reference).toBe('PO-3');

        const seen: string[] = [];
        let after: string | undefined;
        do {
          const page = await store.listSent({
            sender: '0088:alice',
            states: ['submitted'],
            limit: 2,
            ...(after === undefined ? {} : { after }),
          });
          seen.push(...page.messages.map((m) => m.id));
          after = page.next;
        } while (after !== undefined);
        expect(seen).toEqual(['sent-4', 'sent-3', 'sent-2', 'sent-1', 'sent-0']);
        await expectCode(store.listSent({ sender: '0088:alice', after: 'bm90LWEtY3Vyc29y' }), 'BAD_REQUEST');
      });
    });

    describe('dead letters', () => {
      const t0 = '2030-01-01T00:00:00.000Z';
      const at = (ms: number) => new Date(new Date(t0).getTime() + ms);

      it('keeps a given-up entry as a dead letter: listed with its error, never leased, not counted as pending', async () => {
        const m = newMessage();
        await store.transaction(async (tx) => {
          await tx.insertMessage(m);
          await tx.enqueue('notify', m.id, { evidenceId: 'ev-9' });
          await tx.enqueue('relay', m.id);
        });
        const [notify, relay] = (await store.leaseOutbox(10, 60_000, at(0))) as [OutboxEntry, OutboxEntry];
        await store.retryOutbox(notify.id, at(10), 'AS4_TIMEOUT');
        expect(await store.listDeadLetters()).toEqual([]);
        await store.deadLetterOutbox(notify.id, 'AS4_EBMS_0005', at(20));
        const dead = await store.listDeadLetters();
        expect(dead).toEqual([
          {
            id: notify.id,
            stage: 'notify',
            messageId: m.id,
            data: { evidenceId: 'ev-9' },
            createdAt: at(0),
            attempts: 2,
            deadAt: at(20),
            lastError: 'AS4_EBMS_0005',
          },
        ]);
        // Long after any lease or retry time: a dead letter is never handed out.
        expect(await store.leaseOutbox(10, 60_000, at(10_000_000))).toMatchObject([{ id: relay.id }]);
        const stats = await store.stats();
        expect(stats.outboxByStage).toEqual({ relay: 1 });
        expect(stats.deadLettersByStage).toEqual({ notify: 1 });
      });

      it('replays a dead letter once: attempts reset, due at once, leased again; a second replay or an unknown id is refused', async () => {
        const m = newMessage();
        await store.transaction(async (tx) => {
          await tx.insertMessage(m);
          await tx.enqueue('notify', m.id, { evidenceId: 'ev-1' });
        });
        const [entry] = (await store.leaseOutbox(10, 60_000, at(0))) as [OutboxEntry];
        await store.deadLetterOutbox(entry.id, 'DIRECTORY_NOT_FOUND', at(5));
        const sibling = await rival();
        // Two operators replay at the same moment: exactly one wins.
        const results = await Promise.all([
          store.replayDeadLetter(entry.id, at(100)),
          sibling.replayDeadLetter(entry.id, at(100)),
        ]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.replayDeadLetter(entry.id, at(100))).toBe(false);
        expect(await store.replayDeadLetter(entry.id + 1000, at(100))).toBe(false);
        expect(await store.listDeadLetters()).toEqual([]);
        expect(await store.leaseOutbox(10, 60_000, at(99))).toEqual([]);
        expect(await store.leaseOutbox(10, 60_000, at(100))).toMatchObject([
          { id: entry.id, stage: 'notify', attempts: 0, data: { evidenceId: 'ev-1' } },
        ]);
      });

      it('lists oldest first, up to the limit', async () => {
        const m = newMessage();
        await store.transaction(async (tx) => {
          await tx.insertMessage(m);
          for (let i = 0; i < 3; i++) await tx.enqueue('notify', m.id, { i });
        });
        const entries = await store.leaseOutbox(10, 60_000, at(0));
        for (const [i, e] of entries.entries()) await store.deadLetterOutbox(e.id, 'X', at(100 - i));
        expect((await store.listDeadLetters()).map((d) => d.data.i)).toEqual([2, 1, 0]);
        expect((await store.listDeadLetters({ limit: 2 })).map((d) => d.data.i)).toEqual([2, 1]);
      });
    });

    describe('blobs', () => {
      /** Larger than the default inline size (64 KiB): a file. */
      const large = (text: string) => Buffer.from(text.padEnd(70_000, '.'));

      it('stores a large buffer or stream as a file under its SHA-256, reads it back, once per content', async () => {
        const bytes = Buffer.from('%PDF-1.7 hello qerds\n'.repeat(4000));
        const key = sha256(bytes);
        expect(await store.blobs.has(key)).toBe(false);
        expect(await store.blobs.put(bytes)).toMatchObject({
          sha256: key,
          size: bytes.length,
          inline: false,
        });
        expect(
          await store.blobs.put(Readable.from([bytes.subarray(0, 7), bytes.subarray(7)]), {
            maxBytes: bytes.length,
          }),
        ).toMatchObject({ sha256: key, size: bytes.length, inline: false });
        expect(await store.blobs.has(key)).toBe(true);
        expect(await readAll(store.blobs.get(key))).toEqual(bytes);
        expect(filesUnder(harness.blobDir)).toEqual([join(key.slice(0, 2), key)]);
      });

      it('puts again into a shard directory removed since the store last wrote there, leaving no temporary file', async () => {
        const bytes = large('first of its shard');
        const key = sha256(bytes);
        await store.blobs.put(bytes);
        rmSync(join(harness.blobDir, key.slice(0, 2)), { recursive: true });
        expect(await store.blobs.has(key)).toBe(false);
        expect(await store.blobs.put(bytes)).toMatchObject({ sha256: key, size: bytes.length });
        expect(await readAll(store.blobs.get(key))).toEqual(bytes);
        expect(filesUnder(harness.blobDir)).toEqual([join(key.slice(0, 2), key)]);
      });

      it('stores the empty payload', async () => {
        const key = sha256(Buffer.alloc(0));
        expect(await store.blobs.put(Buffer.alloc(0))).toMatchObject({ sha256: key, size: 0 });
        expect(await readAll(store.blobs.get(key))).toEqual(Buffer.alloc(0));
      });

      it('discard undoes a put that created the file, unless a later put of the same bytes placed it again', async () => {
        const first = await store.blobs.put(large('refused upload'));
        expect(first.discard).toBeDefined();
        await first.discard!();
        expect(await store.blobs.has(first.sha256)).toBe(false);
        const mine = await store.blobs.put(large('shared bytes'));
        const theirs = await store.blobs.put(large('shared bytes'));
        expect(theirs.discard).toBeUndefined();
        await mine.discard!();
        expect(await store.blobs.has(mine.sha256)).toBe(true);
      });

      it('sweepOrphanBlobs removes old blobs no message names (also past a page of messages), keeps named and young ones', async () => {
        const hourAgo = new Date(Date.now() - 2 * 3_600_000);
        const age = (key: string) =>
          utimesSync(join(harness.blobDir, key.slice(0, 2), key), hourAgo, hourAgo);
        const named = await store.blobs.put(large('named by a message'));
        const plaintext = await store.blobs.put(large('plaintext kept beside its ciphertext'));
        const orphan = await store.blobs.put(large('named by nothing'));
        const young = await store.blobs.put(large('put a moment ago'));
        // More messages than one page of the reference scan (1000), the named one last in id order.
        await store.transaction(async (tx) => {
          for (let i = 0; i < 1001; i++)
            await tx.insertMessage(newMessage({ id: `msg-sweep-${String(i).padStart(4, '0')}` }));
          await tx.insertMessage(
            newMessage({
              id: 'msg-sweep-zzzz',
              parts: [
                {
                  partId: 'p',
                  contentType: 'text/plain',
                  sha256: named.sha256,
                  size: named.size,
                  plaintextSha256: plaintext.sha256,
                },
              ],
            }),
          );
        });
        for (const key of [named.sha256, plaintext.sha256, orphan.sha256]) age(key);
        expect(await store.sweepOrphanBlobs({ graceMs: 3_600_000 })).toEqual({ removed: 1 });
        expect(await store.blobs.has(orphan.sha256)).toBe(false);
        for (const kept of [named, plaintext, young]) expect(await store.blobs.has(kept.sha256)).toBe(true);
      });

      it('refuses an oversize payload mid-stream and leaves no file behind', async () => {
        const chunk = Buffer.alloc(64 * 1024, 7);
        let produced = 0;
        // An endless source: the limit must stop it, not its end.
        const endless = new Readable({
          read() {
            produced += chunk.length;
            this.push(chunk);
          },
        });
        await expectCode(store.blobs.put(endless, { maxBytes: 200_000 }), 'PAYLOAD_TOO_LARGE');
        expect(produced).toBeLessThan(2_000_000);
        await expectCode(store.blobs.put(Buffer.alloc(11), { maxBytes: 10 }), 'PAYLOAD_TOO_LARGE');
        await expectCode(
          store.blobs.put(Readable.from([Buffer.alloc(6), Buffer.alloc(5)]), { maxBytes: 10 }),
          'PAYLOAD_TOO_LARGE',
        );
        expect(filesUnder(harness.blobDir)).toEqual([]);
        expect(await store.blobs.has(sha256(Buffer.alloc(11)))).toBe(false);
      });

      it('reports a missing or malformed key as NOT_FOUND', async () => {
        await expectCode(readAll(store.blobs.get('c'.repeat(64))), 'NOT_FOUND');
        expect(() => store.blobs.get('../../etc/passwd')).toThrow(
          expect.objectContaining({ code: 'NOT_FOUND' }),
        );
        expect(await store.blobs.has('../x')).toBe(false);
        expect(await store.blobs.has('c'.repeat(64))).toBe(false);
      });

      describe('small blobs in the database', () => {
        /** A message naming these blobs (the last one also as the first part's plaintext). */
        const naming = (...blobs: { sha256: string; size: number }[]) =>
          newMessage({
            parts: blobs.map((b, i) => ({
              partId: `p${i}`,
              contentType: 'application/octet-stream',
              sha256: b.sha256,
              size: b.size,
            })),
          });

        it('holds a small blob until a message names it, then writes it with that message: no file at all', async () => {
          const bytes = randomBytes(1000);
          const streamed = randomBytes(3000);
          const small = await store.blobs.put(bytes);
          const fromStream = await store.blobs.put(
            Readable.from([streamed.subarray(0, 1000), streamed.subarray(1000)]),
          );
          expect(small).toMatchObject({ sha256: sha256(bytes), size: 1000, inline: true });
          expect(fromStream).toMatchObject({ sha256: sha256(streamed), size: 3000, inline: true });
          // Readable here at once (the request that put it checks and relays it before the message is stored).
          expect(await store.blobs.has(small.sha256)).toBe(true);
          expect(await readAll(store.blobs.get(small.sha256))).toEqual(bytes);
          const sibling = await harness.openSibling();
          // Another process sees nothing of a put no message names yet: nothing of it is on disk.
          if (sibling !== store) expect(await sibling.blobs.has(small.sha256)).toBe(false);
          await store.transaction((tx) => tx.insertMessage(naming(small, fromStream)));
          expect(await sibling.blobs.has(small.sha256)).toBe(true);
          expect(await readAll(sibling.blobs.get(small.sha256))).toEqual(bytes);
          expect(await readAll(sibling.blobs.get(fromStream.sha256))).toEqual(streamed);
          // And this store reads them from the database now, as well.
          expect(await readAll(store.blobs.get(fromStream.sha256))).toEqual(streamed);
          expect(filesUnder(harness.blobDir)).toEqual([]);
        });

        it('is a file from one octet over the inline size (64 KiB), whether given whole or streamed', async () => {
          const sizes = [65_535, 65_536, 65_537];
          const stored: { bytes: Buffer; blob: StoredBlob }[] = [];
          for (const size of sizes) {
            const bytes = randomBytes(size);
            const whole = await store.blobs.put(bytes);
            // In chunks of 1000: the store reads on past the inline size and streams the rest into a file.
            const chunks = Array.from({ length: Math.ceil(size / 1000) }, (_, i) =>
              bytes.subarray(i * 1000, (i + 1) * 1000),
            );
            const streamed = await store.blobs.put(Readable.from(chunks), { maxBytes: size });
            expect(whole).toMatchObject({ sha256: sha256(bytes), size, inline: size <= 65_536 });
            expect(streamed).toMatchObject({ sha256: sha256(bytes), size, inline: size <= 65_536 });
            stored.push({ bytes, blob: whole });
          }
          const file = stored[2]!.blob.sha256;
          expect(filesUnder(harness.blobDir)).toEqual([join(file.slice(0, 2), file)]);
          await store.transaction((tx) => tx.insertMessage(naming(...stored.map((s) => s.blob))));
          const sibling = await harness.openSibling();
          for (const { bytes, blob } of stored)
            expect(await readAll(sibling.blobs.get(blob.sha256))).toEqual(bytes);
          expect(filesUnder(harness.blobDir)).toEqual([join(file.slice(0, 2), file)]);
        });

        it('writes nothing of a rolled-back message; a later one that commits stores the bytes', async () => {
          const bytes = randomBytes(500);
          const blob = await store.blobs.put(bytes);
          await expect(
            store.transaction(async (tx) => {
              await tx.insertMessage(naming(blob));
              throw new Error('refused after the insert');
            }),
          ).rejects.toThrow('refused after the insert');
          const sibling = await harness.openSibling();
          if (sibling !== store) expect(await sibling.blobs.has(blob.sha256)).toBe(false);
          // Still held for the put's owner, who may store its message again.
          expect(await readAll(store.blobs.get(blob.sha256))).toEqual(bytes);
          await store.transaction((tx) => tx.insertMessage(naming(blob)));
          expect(await readAll(sibling.blobs.get(blob.sha256))).toEqual(bytes);
        });

        it('dedups by SHA-256: puts of the same bytes share them, each discard undoes its own put only', async () => {
          const bytes = randomBytes(700);
          const mine = await store.blobs.put(bytes);
          const theirs = await store.blobs.put(Readable.from([bytes]));
          expect(mine.sha256).toBe(theirs.sha256);
          await mine.discard!();
          expect(await store.blobs.has(mine.sha256)).toBe(true);
          await theirs.discard!();
          expect(await store.blobs.has(mine.sha256)).toBe(false);
          // Two messages naming the same bytes: one row, both read them.
          const first = await store.blobs.put(bytes);
          const second = await store.blobs.put(bytes);
          await store.transaction((tx) => tx.insertMessage(naming(first)));
          // The second put's message comes after the first committed (its bytes are the database's by then).
          await store.transaction((tx) => tx.insertMessage(naming(second)));
          // A discard of a put whose bytes a message now holds takes nothing from it.
          await second.discard!();
          const sibling = await harness.openSibling();
          expect(await readAll(sibling.blobs.get(first.sha256))).toEqual(bytes);
          expect(await readAll(store.blobs.get(first.sha256))).toEqual(bytes);
        });

        it('sweepOrphanBlobs lets go of small blobs no message named within the grace period, keeps stored ones', async () => {
          const orphan = await store.blobs.put(Buffer.from('put, never named'));
          const named = await store.blobs.put(Buffer.from('put and named'));
          await store.transaction((tx) => tx.insertMessage(naming(named)));
          expect(await store.sweepOrphanBlobs({ graceMs: 3_600_000 })).toEqual({ removed: 0 });
          expect(await store.blobs.has(orphan.sha256)).toBe(true);
          // A grace period that is over for every put so far.
          expect(await store.sweepOrphanBlobs({ graceMs: -60_000 })).toEqual({ removed: 1 });
          expect(await store.blobs.has(orphan.sha256)).toBe(false);
          expect(await readAll(store.blobs.get(named.sha256))).toEqual(Buffer.from('put and named'));
        });
      });
    });
  });
}
