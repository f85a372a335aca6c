import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  apiText,
  RECIPIENT,
  SENDER,
  startTwoAccessPoints,
  type TwoAccessPoints,
} from '../../src/harness/two-access-points.js';
import { hashPassword, SMTP_AUTH_METHOD } from '../../src/smtp/index.js';
import { sharedTestPki } from '../helpers/pki.js';
import { swaks } from './swaks.js';
import { waitFor } from '../helpers/wait.js';
import { accessPointInternals } from '../../src/access-point/internals.js';

const SENDER_EMAIL = 'keiri@sample-trading.example';
const PASSWORD = 'correct horse battery staple';
const fixture = join(import.meta.dirname, '../fixtures/smtp/utf8-message.eml');

interface MessageView {
  id: string;
  state: string;
  subject?: string;
  parts: { partId: string; contentType: string; sha256: string; size: number }[];
}

describe('SMTP submission at C2 → AS4 → C3 → download by C4', () => {
  const pki = sharedTestPki();
  let aps: TwoAccessPoints;

  beforeAll(async () => {
    const passwordHash = await hashPassword(PASSWORD);
    aps = await startTwoAccessPoints({
      outDir: mkdtempSync(join(tmpdir(), 'qerds-smtp-e2e-')),
      pkiDir: pki.dir,
      overrides: (name) =>
        name === 'c2'
          ? {
              smtp: {
                enabled: true,
                port: 0,
                domain: 'ap.example',
                accounts: [
                  { username: 'sample-trading', passwordHash, participant: SENDER.id, email: SENDER_EMAIL },
                ],
              },
            }
          : {},
    });
  }, 60_000);
  afterAll(async () => {
    await aps?.stop();
  });

  it('swaks submits with STARTTLS + AUTH; the message is relayed and handed over byte for byte', async () => {
    const port = aps.c2.smtpAddress?.port;
    expect(port).toBeGreaterThan(0);
    const result = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(port),
      '--tls',
      '--tls-verify',
      '--tls-ca-path',
      pki.caCert,
      '--auth',
      'PLAIN',
      '--auth-user',
      'sample-trading',
      '--auth-password',
      PASSWORD,
      '--from',
      SENDER_EMAIL,
      '--to',
      '0188-9876543210987@ap.example',
      '--data',
      fixture,
    ]);
    expect(result.status, result.transcript).toBe(0);
    const queued = /^250 2\.6\.0 Message queued as (\S+)$/m.exec(result.transcript);
    expect(queued, result.transcript).not.toBeNull();
    const messageId = queued![1]!;
    // What the SMTP client sent after DATA: the file plus the empty line swaks adds before ".".
    const raw = Buffer.concat([readFileSync(fixture), Buffer.from('\r\n')]);
    const sha256 = createHash('sha256').update(raw).digest('hex');

    // C2: the message as submitted, with SubmissionAcceptance naming SMTP AUTH and the digest of the raw mail.
    const sent = await api<MessageView>(aps.c2.url, SENDER.key, `/api/v1/messages/${messageId}`);
    expect(sent.subject).toBe('請求書 2026-0042');
    expect(sent.parts).toEqual([
      expect.objectContaining({ contentType: 'message/rfc822', sha256, size: raw.length }),
    ]);
    const chain = await api<{ id: string; event: string }[]>(
      aps.c2.url,
      SENDER.key,
      `/api/v1/messages/${messageId}/evidence`,
    );
    const acceptance = chain.find((e) => e.event === 'SubmissionAcceptance');
    expect(acceptance).toBeDefined();
    const xml = await apiText(aps.c2.url, SENDER.key, `/api/v1/evidence/${acceptance!.id}`);
    expect(xml).toContain(SMTP_AUTH_METHOD);
    expect(xml).toContain(Buffer.from(sha256, 'hex').toString('base64'));

    // C3 → C4: the recipient finds it in its inbox and downloads the original bytes.
    const inboxed = await waitFor(async () => {
      const inbox = await api<MessageView[]>(aps.c3.url, RECIPIENT.key, '/api/v1/inbox');
      return inbox.find((m) => m.parts[0]?.sha256 === sha256);
    });
    const response = await fetch(`${aps.c3.url}/api/v1/inbox/${inboxed.id}/parts/part-1`, {
      headers: { authorization: `Bearer ${RECIPIENT.key}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^message\/rfc822/);
    expect(Buffer.from(await response.arrayBuffer()).equals(raw)).toBe(true);
    const handedOver = await waitFor(async () => {
      const evidence = await api<{ event: string }[]>(
        aps.c2.url,
        SENDER.key,
        `/api/v1/messages/${messageId}/evidence`,
      );
      return evidence.some((e) => e.event === 'ContentHandover') ? evidence : undefined;
    });
    expect(handedOver.map((e) => e.event)).toEqual(
      expect.arrayContaining(['SubmissionAcceptance', 'RelayAcceptance', 'ContentHandover']),
    );
  }, 60_000);

  it('refuses a spoofed From at C2 and stores nothing', async () => {
    const count = async () =>
      (await accessPointInternals(aps.c2).context.store.listMessages({ limit: 1000 })).length;
    const before = await count();
    const result = await swaks([
      '--server',
      '127.0.0.1',
      '--port',
      String(aps.c2.smtpAddress!.port),
      '--tls',
      '--tls-verify',
      '--tls-ca-path',
      pki.caCert,
      '--auth',
      'PLAIN',
      '--auth-user',
      'sample-trading',
      '--auth-password',
      PASSWORD,
      '--from',
      SENDER_EMAIL,
      '--to',
      '0188-9876543210987@ap.example',
      '--h-From',
      'ceo@other-company.example',
    ]);
    expect(result.transcript).toMatch(/^550 5\.7\.1 header From must be/m);
    expect(await count()).toBe(before);
  });
});
