import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { createAccessPoint, type AccessPoint } from '../../src/access-point.js';
import { RECIPIENT, SENDER } from '../../src/harness/two-access-points.js';
import { loadConfig } from '../../src/config/index.js';
import { devPkiLayout } from '../../src/pki/index.js';
import { accessPointInternals } from '../../src/access-point/internals.js';
import { devApId } from '../../src/pki/dev-ap-id.js';
import { devTestPki } from '../helpers/pki.js';
import { duplicateKeys } from '../helpers/json-duplicate-keys.js';
import { claimPort } from '../helpers/ports.js';
import { waitFor } from '../helpers/wait.js';

/**
 * Structured logs follow a message: one message goes C1 → C2 → C3 and its evidence comes back, with
 * debug logging captured from both APs. Every line written while it travels names its messageId (C2's
 * or C3's id of it); the lines of its jobs also name stage and jobId, and the submission line carries
 * the client's X-Request-Id, which the API echoes. No line names a field twice (a stage's logger is
 * already bound to its message: the id passed again would be a second "messageId" in the same line).
 */
const work = mkdtempSync(join(tmpdir(), 'qerds-corr-'));
const aps: AccessPoint[] = [];

afterAll(async () => {
  for (const ap of aps) await ap.stop();
  rmSync(work, { recursive: true, force: true });
});

type Line = {
  ap: string;
  msg: string;
  messageId?: string;
  stage?: string;
  jobId?: number;
  requestId?: string;
  component?: string;
  level: number;
  method?: string;
  path?: string;
  status?: number;
  ms?: number;
};

describe('correlation ids in logs', () => {
  it('every log line of one message’s life carries its messageId', async () => {
    const pkiDir = join(work, 'pki');
    await devTestPki(pkiDir);
    const lines: Line[] = [];
    const doubled: { line: string; keys: string[] }[] = [];
    const root = pino(
      { level: 'debug' },
      {
        write: (text: string) => {
          lines.push(JSON.parse(text) as Line);
          const keys = duplicateKeys(text);
          if (keys.length > 0) doubled.push({ line: text, keys });
        },
      },
    );
    // Claimed, not port 0: each AP's directory names both APs' endpoints (its own too) before either listens.
    const [c2Port, c3Port] = await Promise.all([claimPort(), claimPort()]);
    const participants = [
      {
        id: SENDER.id,
        name: SENDER.name,
        endpoint: `http://127.0.0.1:${c2Port}/as4`,
        apEncryptionCertificate: devPkiLayout(pkiDir).ap('c2').encCert,
        apCertificate: devPkiLayout(pkiDir).ap('c2').sealCert,
      },
      {
        id: RECIPIENT.id,
        name: RECIPIENT.name,
        endpoint: `http://127.0.0.1:${c3Port}/as4`,
        apEncryptionCertificate: devPkiLayout(pkiDir).ap('c3').encCert,
        apCertificate: devPkiLayout(pkiDir).ap('c3').sealCert,
      },
    ];
    const make = (name: 'c2' | 'c3', port: number, account: typeof SENDER) =>
      createAccessPoint(
        loadConfig({
          env: {},
          overrides: {
            ap: { name, id: devApId(name) },
            http: { port },
            store: { sqliteFile: join(work, name, 'qerds.sqlite'), blobDir: join(work, name, 'blobs') },
            queue: { pollIntervalMs: 20 },
            pki: { dir: pkiDir, apName: name },
            directory: { participants },
            apiKeys: [{ key: account.key, participant: account.id, name: account.name }],
          },
        }),
        { logger: root.child({ ap: name }) },
      );
    const c2 = await make('c2', c2Port, SENDER);
    aps.push(c2);
    const c3 = await make('c3', c3Port, RECIPIENT);
    aps.push(c3);
    await Promise.all([c2.start(), c3.start()]);
    const startup = lines.length;

    const form = new FormData();
    form.set('metadata', JSON.stringify({ recipient: RECIPIENT.id }));
    form.append('payload', new Blob(['<Invoice/>'], { type: 'application/xml' }), 'i.xml');
    const response = await fetch(`${c2.url}/api/v1/messages`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${SENDER.key}`, 'x-request-id': 'client-req-42' },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-request-id')).toBe('client-req-42');
    const { id } = (await response.json()) as { id: string };
    // A header that is not a plain token is replaced, not logged (log injection).
    const odd = await fetch(`${c2.url}/healthz`, { headers: { 'x-request-id': 'a b\tc' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    await waitFor(
      async () =>
        (await accessPointInternals(c2).context.store.listEvidence(id)).length >= 3 ? true : undefined,
      { what: 'the message to complete (three evidence at C2)' },
    );
    // The last jobs settle and log: every job of both APs settled (no live entry), and the line the runner
    // writes after settling each one (last: C3's notify of ContentConsignment) is in.
    await waitFor(
      async () => {
        for (const ap of [c2, c3])
          if (Object.keys((await accessPointInternals(ap).context.store.stats()).outboxByStage).length > 0)
            return undefined;
        const done = lines.filter((l) => l.msg === 'job done');
        return done.filter((l) => l.ap === 'c3' && l.stage === 'notify').length >= 2 &&
          done.some((l) => l.ap === 'c3' && l.stage === 'deliver') &&
          done.some((l) => l.ap === 'c2' && l.stage === 'relay')
          ? true
          : undefined;
      },
      { what: 'the jobs of both APs settled and logged' },
    );
    const c3Id = (await accessPointInternals(c3).context.store.listMessages())[0]!.id;

    expect(doubled, 'log lines that name a field twice').toEqual([]);
    const life = lines.slice(startup);
    expect(life.length).toBeGreaterThan(5);
    // Access-log lines (msg 'http') are about a request, not a message: they carry its requestId instead.
    const access = life.filter((l) => l.msg === 'http');
    // The evidence pool's lines are about its threads (started at the first evidence call, inside this life): they
    // name the thread instead.
    const without = life.filter(
      (l) =>
        l.msg !== 'http' && l.component !== 'evidence-pool' && l.messageId !== (l.ap === 'c2' ? id : c3Id),
    );
    expect(without, 'log lines without the messageId of the message they are about').toEqual([]);
    // The stages' lines name stage and outbox entry too.
    const staged = life.filter((l) => l.stage !== undefined);
    expect(new Set(staged.map((l) => `${l.ap}:${l.stage}`))).toEqual(
      new Set(['c2:relay', 'c3:deliver', 'c3:notify']),
    );
    expect(staged.every((l) => typeof l.jobId === 'number')).toBe(true);
    // The submission's line links the client's request id to the new message.
    expect(life.find((l) => l.msg === 'submission recorded')).toMatchObject({
      ap: 'c2',
      messageId: id,
      requestId: 'client-req-42',
    });
    // One access line per request: the submission's names the client's request id, status and duration, and no header.
    const submission = access.filter((l) => l.requestId === 'client-req-42');
    expect(submission).toEqual([
      expect.objectContaining({
        ap: 'c2',
        method: 'POST',
        path: '/api/v1/messages',
        status: 201,
        ms: expect.any(Number),
      }),
    ]);
    expect(JSON.stringify(access)).not.toContain(SENDER.key);
    expect(
      access.some((l) => l.ap === 'c3' && l.method === 'POST' && l.path === '/as4' && l.status === 200),
    ).toBe(true);
  }, 60_000);
});
