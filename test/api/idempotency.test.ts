import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccessPoint, type AccessPoint } from '../../src/access-point.js';
import { submissionFingerprint } from '../../src/api/idempotency.js';
import {
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { testPostgresUrl } from '../helpers/postgres.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { useOpenApiContract } from '../helpers/openapi-contract.js';
import { devTestPki } from '../helpers/pki.js';

/**
 * Idempotency-Key on POST /api/v1/messages, with C2 as two API processes (two access points, each its own
 * connection pool, HTTP server and queue) on one PostgreSQL schema and blob directory: a retry answered by
 * the other process replays the first answer, and no second message is made.
 */
describe('Idempotency-Key: a submission retried, on either of two API processes sharing a PostgreSQL store', () => {
  useOpenApiContract();
  const work = mkdtempSync(join(tmpdir(), 'qerds-idempotency-'));
  const run = randomBytes(4).toString('hex');
  const schemas = [`qerds_idem_${run}_c2`, `qerds_idem_${run}_c3`];
  let net: TwoAccessPoints;
  let second: AccessPoint;

  beforeAll(async () => {
    const pkiDir = join(work, 'pki');
    await devTestPki(pkiDir);
    net = await startTwoAccessPoints({
      outDir: join(work, 'aps'),
      pkiDir,
      overrides: (name) => ({
        store: {
          kind: 'postgres',
          postgresUrl: testPostgresUrl,
          postgresSchema: `qerds_idem_${run}_${name}`,
        },
      }),
    });
    second = await createAccessPoint(
      { ...net.c2.config, http: { ...net.c2.config.http, port: 0 } },
      { logger: pino({ level: 'warn' }) },
    );
    await second.start();
  }, 120_000);

  afterAll(async () => {
    await second?.stop();
    await net?.stop();
    const admin = new pg.Client({ connectionString: testPostgresUrl });
    await admin.connect();
    for (const schema of schemas) await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
    rmSync(work, { recursive: true, force: true });
  });

  const invoice = (text: string) => Buffer.from(`<Invoice><ID>${text}</ID></Invoice>`);
  const submit = (
    base: string,
    key: string | undefined,
    metadata: Record<string, unknown>,
    payload: Buffer,
  ) => {
    const form = new FormData();
    // Key order differs from the first request's on purpose: the identity is the metadata, not its spelling.
    form.set('metadata', JSON.stringify(metadata));
    form.append('payload', new Blob([new Uint8Array(payload)], { type: 'application/xml' }), 'invoice.xml');
    return fetch(`${base}/api/v1/messages`, {
      method: 'POST',
      body: form,
      headers: {
        authorization: `Bearer ${SENDER.key}`,
        ...(key === undefined ? {} : { 'idempotency-key': key }),
      },
    });
  };
  const messagesWithSubject = async (subject: string) =>
    (await accessPointInternals(net.c2).context.store.listMessages({ limit: 500 })).filter(
      (m) => m.subject === subject,
    );

  it('replays the first answer (status, body, Location) from the other process, and makes one message', async () => {
    const first = await submit(
      net.c2.url,
      'order-1',
      { recipient: RECIPIENT.id, subject: 'idem-1' },
      invoice('1'),
    );
    expect(first.status).toBe(201);
    const firstBody = await first.text();
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    const retry = await submit(
      second.url,
      'order-1',
      { subject: 'idem-1', recipient: RECIPIENT.id },
      invoice('1'),
    );
    expect(retry.status).toBe(201);
    expect(await retry.text()).toBe(firstBody);
    expect(retry.headers.get('location')).toBe(first.headers.get('location'));
    expect(retry.headers.get('content-type')).toBe(first.headers.get('content-type'));
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await messagesWithSubject('idem-1')).toHaveLength(1);

    // Without the key the same request is a new submission (control).
    expect(
      (await submit(second.url, undefined, { recipient: RECIPIENT.id, subject: 'idem-1' }, invoice('1')))
        .status,
    ).toBe(201);
    expect(await messagesWithSubject('idem-1')).toHaveLength(2);
  });

  it('refuses the same key with another request (other payload, other metadata) with 422 naming the key', async () => {
    expect(
      (await submit(net.c2.url, 'order-2', { recipient: RECIPIENT.id, subject: 'idem-2' }, invoice('2')))
        .status,
    ).toBe(201);
    for (const [metadata, payload] of [
      [{ recipient: RECIPIENT.id, subject: 'idem-2' }, invoice('2 changed')],
      [{ recipient: RECIPIENT.id, subject: 'idem-2 changed' }, invoice('2')],
    ] as const) {
      const conflict = await submit(second.url, 'order-2', metadata, payload);
      expect(conflict.status).toBe(422);
      expect(conflict.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      const problem = (await conflict.json()) as { code: string; detail: string; idempotencyKey: string };
      expect(problem.code).toBe('IDEMPOTENCY_KEY_REUSED');
      expect(problem.idempotencyKey).toBe('order-2');
      expect(problem.detail).toContain('order-2');
    }
    expect(await messagesWithSubject('idem-2')).toHaveLength(1);
    expect(await messagesWithSubject('idem-2 changed')).toHaveLength(0);
  });

  it('answers 409 while the first request with the key is still running elsewhere', async () => {
    const payload = invoice('3');
    const metadata = JSON.stringify({ recipient: RECIPIENT.id, subject: 'idem-3' });
    // The other process's claim, as it stands while its request runs (same request identity).
    const fingerprint = submissionFingerprint({
      fields: { metadata },
      parts: [
        {
          partId: 'part-1',
          contentType: 'application/xml',
          filename: 'invoice.xml',
          sha256: createHash('sha256').update(payload).digest('hex'),
          size: payload.length,
        },
      ],
    });
    const now = new Date();
    const claim = await accessPointInternals(second).context.store.claimIdempotencyKey({
      account: SENDER.id,
      key: 'order-3',
      fingerprint,
      now,
      expiresAt: new Date(now.getTime() + 3600_000),
      staleBefore: new Date(now.getTime() - 3600_000),
    });
    expect(claim.claimed).toBe(true);
    const busy = await submit(net.c2.url, 'order-3', { recipient: RECIPIENT.id, subject: 'idem-3' }, payload);
    expect(busy.status).toBe(409);
    expect(((await busy.json()) as { code: string }).code).toBe('IDEMPOTENCY_KEY_IN_PROGRESS');
    expect(await messagesWithSubject('idem-3')).toHaveLength(0);
  });

  it('of concurrent retries on both processes exactly one makes a message; the others replay it or are told to wait', async () => {
    const responses = await Promise.all(
      [net.c2.url, second.url, net.c2.url, second.url].map((base) =>
        submit(base, 'order-4', { recipient: RECIPIENT.id, subject: 'idem-4' }, invoice('4')),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(
      statuses.every((s) => s === 201 || s === 409),
      statuses.join(),
    ).toBe(true);
    const ids = new Set(
      await Promise.all(
        responses.filter((r) => r.status === 201).map(async (r) => ((await r.json()) as { id: string }).id),
      ),
    );
    expect(ids.size).toBe(1);
    expect((await messagesWithSubject('idem-4')).map((m) => m.id)).toEqual([...ids]);
  });

  it('stores the key under the authenticated participant (its scope; see the store conformance suite) for 24 h', async () => {
    const rows = new pg.Pool({ connectionString: testPostgresUrl, max: 1 });
    try {
      const result = await rows.query<{
        account: string;
        idem_key: string;
        expires_at: string;
        created_at: string;
      }>(
        `select account, idem_key, created_at, expires_at from ${schemas[0]}.idempotency_keys where idem_key = 'order-1'`,
      );
      expect(result.rows).toHaveLength(1);
      expect(result.rows[0]!.account).toBe(SENDER.id);
      // Kept 24 hours.
      expect(Date.parse(result.rows[0]!.expires_at) - Date.parse(result.rows[0]!.created_at)).toBe(
        24 * 3600_000,
      );
    } finally {
      await rows.end();
    }
  });
});
