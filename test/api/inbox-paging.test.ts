import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagesRouter } from '../../src/api/messages-routes.js';
import { problemHandler } from '../../src/api/problem.js';
import type { PipelineContext } from '../../src/pipeline/index.js';
import { createSqliteStore, type Store } from '../../src/store/index.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';

/**
 * GET /inbox reads the recipient's own messages from the store by index, a page at a time (review
 * finding: it read the 500 newest messages of everyone and filtered them in memory, so a recipient's
 * older messages vanished behind other recipients' traffic).
 */
describe('GET /api/v1/inbox: keyset paging over HTTP', () => {
  useOpenApiContract();
  const dir = mkdtempSync(join(tmpdir(), 'qerds-inbox-'));
  let store: Store;
  let server: Server;
  let base = '';
  const bob = { scheme: '0088', value: 'bob' };

  beforeAll(async () => {
    store = createSqliteStore({ file: join(dir, 'qerds.sqlite'), blobDir: join(dir, 'blobs') });
    await store.migrate();
    await store.transaction(async (tx) => {
      for (let i = 0; i < 5; i++) {
        await tx.insertMessage({
          id: `bob-${i}`,
          ebmsMessageId: `bob-${i}@c2`,
          role: 'recipient-ap',
          state: 'received',
          sender: { scheme: '0088', value: 'alice' },
          recipient: bob,
          parts: [],
          submittedAt: new Date(Date.UTC(2030, 0, 1, 0, i)),
        });
      }
      // 600 newer messages for someone else: the old in-memory filter over the 500 newest would show bob none.
      for (let i = 0; i < 600; i++) {
        await tx.insertMessage({
          id: `eve-${i}`,
          ebmsMessageId: `eve-${i}@c2`,
          role: 'recipient-ap',
          state: 'received',
          sender: { scheme: '0088', value: 'alice' },
          recipient: { scheme: '0088', value: 'eve' },
          parts: [],
          submittedAt: new Date(Date.UTC(2030, 1, 1, 0, 0, i)),
        });
      }
    });
    const app = express();
    app.use((req, _res, next) => {
      req.principal = { participant: bob } as never;
      next();
    });
    app.use('/api/v1', messagesRouter({ store } as unknown as PipelineContext, { maxPayloadBytes: 1000 }));
    app.use(problemHandler);
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('follows Link rel="next" through every page, newest first, only the recipient\'s messages', async () => {
    const seen: string[] = [];
    let next: string | undefined = '/api/v1/inbox?limit=2';
    let pages = 0;
    while (next) {
      const res: Response = await fetch(base + next);
      expect(res.status).toBe(200);
      seen.push(...((await res.json()) as Array<{ id: string }>).map((m) => m.id));
      next = /^<([^>]+)>; rel="next"$/.exec(res.headers.get('link') ?? '')?.[1];
      pages += 1;
    }
    expect(seen).toEqual(['bob-4', 'bob-3', 'bob-2', 'bob-1', 'bob-0']);
    expect(pages).toBe(3);
  });

  it('answers a bad limit or a forged cursor with 400 problem+json', async () => {
    for (const query of ['limit=0', 'limit=501', 'limit=abc', 'after=', 'after=bm90LWEtY3Vyc29y']) {
      const res = await fetch(`${base}/api/v1/inbox?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await res.json()) as { code: string }).code).toBe('BAD_REQUEST');
    }
  });
});
